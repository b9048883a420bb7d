import { describe, expect, it } from 'vitest';
import { PDFDocument } from 'pdf-lib';
import { pdfPages } from '../../../test/helpers/pdf.js';
import { cnilNotificationPdf, patientLetterPdf, pdfSafe } from './pdf.js';
import type { Impact } from './impact.js';

const A = '0190a000-0000-7000-8000-00000000000a';
const P1 = '0190a000-0000-7000-8000-000000000001';
const P2 = '0190a000-0000-7000-8000-000000000002';
const P3 = '0190a000-0000-7000-8000-000000000003';

const impact: Impact = {
  establishmentId: A,
  actor: { kind: 'user', userId: '0190a000-0000-7000-8000-0000000000ff' },
  window: { from: '2026-11-20T08:00:00.000Z', to: '2026-11-20T18:00:00.000Z' },
  patients: [
    { patientId: P1, categories: ['identity', 'administrative'], accesses: 2, firstAt: '2026-11-20T09:00:00.000Z', lastAt: '2026-11-20T09:05:00.000Z' },
    { patientId: P2, categories: ['identity', 'contact', 'insurance'], accesses: 1, firstAt: '2026-11-20T10:00:00.000Z', lastAt: '2026-11-20T10:00:00.000Z' },
    { patientId: P3, categories: ['clinical'], accesses: 1, firstAt: '2026-11-20T11:00:00.000Z', lastAt: '2026-11-20T11:00:00.000Z' },
  ],
  byCategory: [
    { category: 'identity', patients: 2, accesses: 3 },
    { category: 'contact', patients: 1, accesses: 1 },
    { category: 'insurance', patients: 1, accesses: 1 },
    { category: 'administrative', patients: 1, accesses: 2 },
    { category: 'clinical', patients: 1, accesses: 1 },
  ],
  totals: { patients: 3, accesses: 4, refused: 7, refusedAfterContainment: 2 },
  containments: [{ containedAt: '2026-11-20T11:30:00.000Z', releasedAt: null, signals: ['unexplained_5m'] }],
  detectedAt: '2026-11-20T11:30:00.000Z',
  notificationDeadline: '2026-11-23T11:30:00.000Z',
  timeline: [],
};
const est = { name: 'Clinique Sainte-Émilie', city: 'Besançon', dpoContact: 'dpo@clinique.example, 03 81 00 00 00' };

describe('PDF letters', () => {
  it('gives each patient a letter naming that patient and exactly their exposed categories, with French accents intact', async () => {
    const names: Record<string, string> = { [P1]: 'Mme Hélène Lefèvre', [P2]: 'M. François Cœurderoy', [P3]: 'Mme Zoé Müller' };
    for (const p of impact.patients) {
      const pdf = await patientLetterPdf(impact, p, est, 'fr', { name: names[p.patientId]!, addressLines: ['12 rue de l’Église', '25000 Besançon'] });
      expect(Buffer.from(pdf).subarray(0, 5).toString()).toBe('%PDF-');
      const text = (await pdfPages(pdf)).flat().join(' ');
      expect(text).toContain(names[p.patientId]);
      expect(text).toContain(`dossier patient ${p.patientId}`);
      expect(text).toContain('Information sur une violation de vos données personnelles');
      expect(text).toContain('Clinique Sainte-Émilie');
      expect(text).toContain('12 rue de l’Église');
      // Exactly this patient's categories.
      const labels = {
        identity: 'identité (nom, prénoms, sexe, date de naissance)',
        contact: 'coordonnées (adresse, téléphone, e-mail)',
        insurance: 'données d\'assurance maladie',
        administrative: 'données administratives (rendez-vous : date, praticien, motif)',
        clinical: 'données de santé (notes de consultation, prescriptions)',
      } as const;
      for (const [category, label] of Object.entries(labels)) {
        if ((p.categories as string[]).includes(category)) expect(text).toContain(label);
        else expect(text).not.toContain(label);
      }
      // No other patient's name or reference.
      for (const other of impact.patients.filter((o) => o.patientId !== p.patientId)) {
        expect(text).not.toContain(other.patientId);
        expect(text).not.toContain(names[other.patientId]);
      }
    }
  });

  it('without a recipient carries the file reference only, and speaks English on request', async () => {
    const pdf = await patientLetterPdf(impact, impact.patients[1]!, est, 'en');
    const text = (await pdfPages(pdf)).flat().join('\n');
    expect(text).toContain('Information about a breach of your personal data');
    expect(text).toContain(`patient file ${P2}`);
    expect(text).toContain('health insurance data');
    expect(text).not.toContain('genetic');
    const doc = await PDFDocument.load(pdf);
    expect(doc.getTitle()).toBe('Information about a breach of your personal data');
  });

  it('renders the CNIL notification with its table and the 72-hour deadline', async () => {
    const pages = await pdfPages(await cnilNotificationPdf(impact, est, 'fr'));
    // Wrapped lines joined back with the space the wrapping consumed.
    const text = pages.flat().join(' ');
    expect(text).toContain('Notification de violation de données personnelles — projet (RGPD, article 33)');
    expect(text).toContain('3 patients');
    expect(text).toContain('données de santé (notes de consultation, prescriptions) — 1 — 1');
    expect(text).toContain('notification à adresser à la CNIL avant le');
    expect(text).not.toContain('**');
  });

  it('wraps long text onto further pages instead of losing it', async () => {
    const many = { ...impact, patients: [{ ...impact.patients[0]!, categories: ['identity', 'contact', 'insurance', 'administrative', 'clinical', 'certificate', 'genetic'] as Impact['patients'][0]['categories'] }] };
    const pdf = await patientLetterPdf(many, many.patients[0]!, { ...est, name: 'Établissement '.repeat(40).trim() }, 'fr');
    const pages = await pdfPages(pdf);
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(pages.flat().join(' ')).toContain('résultats d’examens génétiques');
  });

  it('draws characters outside WinAnsi as "?" rather than failing', () => {
    expect(pdfSafe('Zoé 🙂 Łódź')).toBe('Zoé ? ?ód?');
    expect(pdfSafe('a\u0000b\nc')).toBe('a b c');
  });
});
