// Drafts written from an impact report: the notification to the CNIL (GDPR art. 33) and one letter
// per affected patient (art. 34), in French by default or English, as Markdown. They carry ids,
// categories, counts and dates only; the patient's name and address are merged in when the letter
// is sent (through the gate, by the notify job), so these files hold no identity.
import type { DataCategory } from '../audit/index.js';
import type { Impact, PatientImpact } from './impact.js';

export type Lang = 'fr' | 'en';

export interface EstablishmentInfo {
  name: string;
  city: string;
  /** The DPO's contact; a placeholder to complete when unknown. */
  dpoContact?: string | null;
}

const CATEGORY: Record<Lang, Record<DataCategory, string>> = {
  fr: {
    identity: 'identité (nom, prénoms, sexe, date de naissance)',
    contact: 'coordonnées (adresse, téléphone, e-mail)',
    insurance: "données d'assurance maladie",
    administrative: 'données administratives (rendez-vous : date, praticien, motif)',
    clinical: 'données de santé (notes de consultation, prescriptions)',
    certificate: 'certificats médicaux',
    genetic: 'résultats d’examens génétiques',
  },
  en: {
    identity: 'identity (name, first names, sex, date of birth)',
    contact: 'contact details (address, phone, e-mail)',
    insurance: 'health insurance data',
    administrative: 'administrative data (appointments: date, practitioner, reason)',
    clinical: 'health data (consultation notes, prescriptions)',
    certificate: 'medical certificates',
    genetic: 'genetic test results',
  },
};

const MEDICAL: ReadonlySet<DataCategory> = new Set(['clinical', 'certificate', 'genetic']);

function fmt(iso: string, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }).format(new Date(iso));
}

function consequences(categories: DataCategory[], lang: Lang): string[] {
  const out: string[] = [];
  const has = (c: DataCategory) => categories.includes(c);
  if (lang === 'fr') {
    if (has('identity') || has('contact')) out.push('hameçonnage (faux messages ou appels se réclamant de l’établissement, de l’Assurance Maladie ou d’une mutuelle) et usurpation d’identité');
    if (has('insurance')) out.push('fraude aux prestations sociales ou à la mutuelle');
    if (has('administrative')) out.push('révélation d’un suivi médical (spécialité consultée, dates de rendez-vous)');
    if (categories.some((c) => MEDICAL.has(c))) out.push('atteinte grave à la vie privée (révélation d’informations de santé), risque de chantage ou de discrimination');
  } else {
    if (has('identity') || has('contact')) out.push('phishing (fake messages or calls claiming to come from the establishment, the national health insurance or a mutual insurer) and identity fraud');
    if (has('insurance')) out.push('fraud on social or mutual insurance benefits');
    if (has('administrative')) out.push('disclosure of medical follow-up (specialty consulted, appointment dates)');
    if (categories.some((c) => MEDICAL.has(c))) out.push('serious intrusion into private life (disclosure of health information), risk of blackmail or discrimination');
  }
  return out;
}

function actorLabel(impact: Impact, lang: Lang): string {
  if (impact.actor.kind === 'user') return lang === 'fr' ? `compte utilisateur ${impact.actor.userId}` : `user account ${impact.actor.userId}`;
  return lang === 'fr' ? `clé d’intégration (API) ${impact.actor.apiKeyId}` : `integration (API) key ${impact.actor.apiKeyId}`;
}

/** The notification to the CNIL, with every item of GDPR Article 33(3). */
export function cnilNotification(impact: Impact, e: EstablishmentInfo, lang: Lang = 'fr'): string {
  const cats = impact.byCategory.map((c) => c.category);
  const dpo = e.dpoContact ?? (lang === 'fr' ? '[À COMPLÉTER : nom, e-mail et téléphone du DPO]' : '[TO COMPLETE: DPO name, e-mail and phone]');
  const rows = impact.byCategory.map((c) => `| ${CATEGORY[lang][c.category]} | ${c.patients} | ${c.accesses} |`).join('\n');
  const contained = impact.containments[0];
  if (lang === 'en') {
    return `# Personal data breach notification — draft (GDPR Article 33)

**Controller:** ${e.name} (${e.city})
**Data protection officer:** ${dpo}
**Detected:** ${fmt(impact.detectedAt, 'en')} — **notification due by ${fmt(impact.notificationDeadline, 'en')}** (72 hours; state the reasons for any delay).

## 1. Nature of the breach
Breach of confidentiality: unauthorised access to patient data through the ${actorLabel(impact, 'en')}, between ${fmt(impact.window.from, 'en')} and ${fmt(impact.window.to, 'en')}. ${impact.totals.accesses} allowed accesses were recorded in the audit log; ${impact.totals.refused} further requests were refused.

## 2. Categories and approximate number of data subjects and records
Data subjects: patients of the establishment. **${impact.totals.patients} patients** are concerned (exact list from the audit log).

| data category | patients | records (accesses) |
|---|---|---|
${rows}

## 3. Likely consequences
${consequences(cats, 'en').map((c) => `- ${c}`).join('\n') || '- none identified'}

## 4. Measures taken or proposed
${contained ? `- The account was contained automatically by the guard on ${fmt(contained.containedAt, 'en')}: every session and API key revoked, login refused until released by a security officer, security officers alerted.` : '- [TO COMPLETE: containment measures]'}
- Each affected patient is informed individually (Article 34) with advice against phishing and identity fraud.
- [TO COMPLETE: credential reset, investigation of the origin (phishing, malware), complaint filed with the police]

## 5. Contact point
${dpo}
`;
  }
  return `# Notification de violation de données personnelles — projet (RGPD, article 33)

**Responsable du traitement :** ${e.name} (${e.city})
**Délégué à la protection des données :** ${dpo}
**Détection :** ${fmt(impact.detectedAt, 'fr')} — **notification à adresser à la CNIL avant le ${fmt(impact.notificationDeadline, 'fr')}** (72 heures ; en cas de retard, en indiquer les motifs).

## 1. Nature de la violation
Violation de confidentialité : accès non autorisé à des données de patients au moyen du ${actorLabel(impact, 'fr')}, entre le ${fmt(impact.window.from, 'fr')} et le ${fmt(impact.window.to, 'fr')}. ${impact.totals.accesses} accès autorisés ont été enregistrés dans le journal d’audit ; ${impact.totals.refused} autres demandes ont été refusées.

## 2. Catégories et nombre approximatif de personnes et d’enregistrements concernés
Personnes concernées : patients de l’établissement. **${impact.totals.patients} patients** sont concernés (liste exacte issue du journal d’audit).

| catégorie de données | patients | enregistrements (accès) |
|---|---|---|
${rows}

## 3. Conséquences probables
${consequences(cats, 'fr').map((c) => `- ${c}`).join('\n') || '- aucune identifiée'}

## 4. Mesures prises ou envisagées
${contained ? `- Le compte a été confiné automatiquement par le système de garde le ${fmt(contained.containedAt, 'fr')} : toutes les sessions et clés d’API révoquées, connexion refusée jusqu’à levée par un responsable sécurité, responsables sécurité alertés.` : '- [À COMPLÉTER : mesures de confinement]'}
- Chaque patient concerné est informé individuellement (article 34), avec des conseils contre l’hameçonnage et l’usurpation d’identité.
- [À COMPLÉTER : réinitialisation des identifiants, recherche de l’origine (hameçonnage, logiciel malveillant), dépôt de plainte]

## 5. Point de contact
${dpo}
`;
}

/** The letter to one affected patient (GDPR Article 34): plain language. */
export function patientLetter(impact: Impact, patient: PatientImpact, e: EstablishmentInfo, lang: Lang = 'fr'): string {
  const cats = patient.categories.map((c) => `- ${CATEGORY[lang][c]}`).join('\n');
  const dpo = e.dpoContact ?? (lang === 'fr' ? '[coordonnées du DPO]' : '[DPO contact]');
  const risks = consequences(patient.categories, lang).map((c) => `- ${c}`).join('\n');
  if (lang === 'en') {
    return `# Information about a breach of your personal data

Reference: patient file ${patient.patientId}

Dear patient,

Between ${fmt(patient.firstAt, 'en')} and ${fmt(patient.lastAt, 'en')}, a person who should not have had access used a staff account of ${e.name} to view part of your file. Our security system detected it and blocked the account on ${impact.containments[0] ? fmt(impact.containments[0].containedAt, 'en') : '[date]'}.

**What was seen:**
${cats}

**What it may mean for you:**
${risks}

**What we have done:** the account was blocked, all its sessions ended, our security officers investigated, and the CNIL (the French data protection authority) has been notified.

**What we advise you to do:**
- Be wary of e-mails, text messages or calls that mention your appointments or your health to ask for money, passwords or bank details: we will never ask for them.
- Do not click on links in unexpected messages; call us on our usual number if in doubt.
- Watch your health insurance statements and bank accounts for anything unusual.

**Contact:** our data protection officer, ${dpo}. You may also lodge a complaint with the CNIL (www.cnil.fr).

${e.name}
`;
  }
  return `# Information sur une violation de vos données personnelles

Référence : dossier patient ${patient.patientId}

Madame, Monsieur,

Entre le ${fmt(patient.firstAt, 'fr')} et le ${fmt(patient.lastAt, 'fr')}, une personne qui n’aurait pas dû y avoir accès a utilisé un compte professionnel de ${e.name} pour consulter une partie de votre dossier. Notre système de sécurité l’a détecté et a bloqué ce compte le ${impact.containments[0] ? fmt(impact.containments[0].containedAt, 'fr') : '[date]'}.

**Ce qui a été consulté :**
${cats}

**Ce que cela peut signifier pour vous :**
${risks}

**Ce que nous avons fait :** le compte a été bloqué, toutes ses sessions fermées, nos responsables sécurité ont enquêté, et la CNIL a été informée.

**Ce que nous vous conseillons :**
- Méfiez-vous des e-mails, SMS ou appels qui évoquent vos rendez-vous ou votre santé pour vous demander de l’argent, un mot de passe ou vos coordonnées bancaires : nous ne vous les demanderons jamais.
- Ne cliquez pas sur les liens de messages inattendus ; en cas de doute, appelez-nous au numéro habituel.
- Surveillez vos relevés d’Assurance Maladie et vos comptes bancaires.

**Contact :** notre délégué à la protection des données, ${dpo}. Vous pouvez aussi adresser une réclamation à la CNIL (www.cnil.fr).

${e.name}
`;
}
