// The identity module's e-mails, in French. Links carry their token in the fragment (#), which
// browsers never send to a server: it stays out of access logs and Referer headers.
import type { MailMessage } from '../../platform/mail.js';

const signature = "\n\n--\nHygie\nCet e-mail vous est envoyé automatiquement ; merci de ne pas y répondre.";

export function emailVerificationMail(to: string, firstName: string, link: string): MailMessage {
  return {
    to,
    template: 'identity.email_verification',
    subject: 'Confirmez votre adresse e-mail',
    text: `Bonjour ${firstName},\n\nPour activer votre compte Hygie et pouvoir prendre rendez-vous, confirmez votre adresse e-mail en ouvrant ce lien (valable 24 heures) :\n\n${link}\n\nSi vous n'avez pas créé de compte, ignorez ce message.${signature}`,
  };
}

export function accountExistsMail(to: string, firstName: string, loginLink: string, resetLink: string): MailMessage {
  return {
    to,
    template: 'identity.signup_existing',
    subject: 'Vous avez déjà un compte Hygie',
    text: `Bonjour ${firstName},\n\nQuelqu'un (vous, peut-être) a essayé de créer un compte Hygie avec cette adresse, qui en a déjà un.\n\nPour vous connecter : ${loginLink}\nMot de passe oublié : ${resetLink}\n\nSi ce n'était pas vous, vous n'avez rien à faire.${signature}`,
  };
}

export function passwordResetMail(to: string, firstName: string, link: string): MailMessage {
  return {
    to,
    template: 'identity.password_reset',
    subject: 'Réinitialisation de votre mot de passe',
    text: `Bonjour ${firstName},\n\nPour choisir un nouveau mot de passe, ouvrez ce lien. Il ne sert qu'une fois et expire dans 30 minutes :\n\n${link}\n\nVotre second facteur (application ou clé d'accès) vous sera toujours demandé à la connexion. Toutes vos sessions ouvertes seront fermées.\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.${signature}`,
  };
}

export function passwordChangedMail(to: string, firstName: string): MailMessage {
  return {
    to,
    template: 'identity.password_changed',
    subject: 'Votre mot de passe a été changé',
    text: `Bonjour ${firstName},\n\nLe mot de passe de votre compte Hygie vient d'être changé et toutes vos sessions ont été fermées.\n\nSi vous n'êtes pas à l'origine de ce changement, contactez immédiatement le responsable sécurité de votre établissement.${signature}`,
  };
}

export function newSignInMail(to: string, firstName: string, when: Date, ip: string, userAgent: string | null): MailMessage {
  const at = when.toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'full', timeStyle: 'short' });
  return {
    to,
    template: 'identity.new_sign_in',
    subject: 'Nouvelle connexion à votre compte Hygie',
    text: `Bonjour ${firstName},\n\nVotre compte vient d'être utilisé depuis un appareil ou une adresse que nous ne connaissions pas :\n\n- le ${at}\n- adresse IP : ${ip}\n- navigateur : ${userAgent ?? 'inconnu'}\n\nSi c'était vous, vous n'avez rien à faire. Sinon, fermez cette session depuis « Mes sessions » et prévenez le responsable sécurité de votre établissement.${signature}`,
  };
}

export function secondFactorChangedMail(to: string, firstName: string, what: string): MailMessage {
  return {
    to,
    template: 'identity.mfa_changed',
    subject: 'Votre second facteur a changé',
    text: `Bonjour ${firstName},\n\n${what}\n\nVos autres sessions ont été fermées. Si vous n'êtes pas à l'origine de ce changement, prévenez immédiatement le responsable sécurité de votre établissement.${signature}`,
  };
}

export function invitationMail(to: string, firstName: string, establishment: string, role: string, link: string): MailMessage {
  return {
    to,
    template: 'identity.invitation',
    subject: `Invitation à rejoindre ${establishment} sur Hygie`,
    text: `Bonjour ${firstName},\n\nVous êtes invité(e) à rejoindre ${establishment} sur Hygie avec le rôle « ${ROLE_LABELS[role] ?? role} ». Ouvrez ce lien (valable 7 jours) pour choisir votre mot de passe puis enregistrer votre second facteur :\n\n${link}${signature}`,
  };
}

export const ROLE_LABELS: Record<string, string> = {
  practitioner: 'praticien',
  secretary: 'secrétariat',
  admin: 'administrateur',
  security_officer: 'responsable sécurité',
};
