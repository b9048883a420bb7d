// Security officers hear of an alert by e-mail too (issue: "in the console and by e-mail"): one
// message per officer of the establishment, queued in the alert's own transaction through the mail
// outbox, so it is sent exactly when the alert exists. The message carries the kind, the severity
// and a link to the console — no patient, no actor, no personal value: mailboxes leak.
import type { Tx } from '../../platform/db/database.js';
import type { MailMessage } from '../../platform/mail.js';
import type { SecurityNotifier } from './meter.js';

const LABELS: Record<string, string> = {
  guard_containment: 'un compte a été confiné par le système de garde',
  guard_step_up: 'une confirmation par second facteur a été exigée',
  guard_thresholds_changed: 'les seuils du système de garde ont été modifiés',
  break_glass: 'un accès « bris de glace » a été ouvert',
  export_requested: "un export de données de patients attend une approbation",
  export_approved: 'un export de données de patients a été approuvé',
  export_rejected: 'un export de données de patients a été refusé',
  export_downloaded: 'un export de données de patients a été téléchargé',
};

/** The e-mail for one officer (pure). */
export function alertMail(to: string, alert: { establishmentId: string; alertId: string; kind: string; severity: string }, consoleUrl: string): MailMessage {
  const what = LABELS[alert.kind] ?? `alerte « ${alert.kind} »`;
  const level = alert.severity === 'critical' ? 'CRITIQUE' : alert.severity === 'warning' ? 'attention' : 'information';
  return {
    to,
    subject: `[Hygie] Alerte de sécurité (${level}) : ${what}`,
    text: `Bonjour,\n\nHygie a levé une alerte de sécurité (${level}) : ${what}.\n\nRéférence de l'alerte : ${alert.alertId}\n\nConsultez-la et traitez-la dans la console de sécurité : ${consoleUrl}\n\nCe message ne contient volontairement aucune donnée de patient.\n`,
    template: `guard.alert.${alert.kind}`.slice(0, 60),
  };
}

export function officerMailNotifier(deps: {
  officerEmails: (tx: Tx) => Promise<string[]>;
  enqueueMail: (tx: Tx, message: MailMessage) => Promise<unknown>;
  publicUrl: string;
}): SecurityNotifier {
  return {
    async alertRaised(tx, alert) {
      const consoleUrl = `${deps.publicUrl.replace(/\/$/, '')}/pro`;
      for (const to of await deps.officerEmails(tx)) await deps.enqueueMail(tx, alertMail(to, alert, consoleUrl));
    },
  };
}
