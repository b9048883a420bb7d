// The security console's audit search: an establishment's audit events by account (a member
// chosen from the list, or any account id) or by patient file id, newest first, each with its
// integrity status. Metadata only: a patient's name is never shown nor searched (a security
// officer may not search patients by name). The search terms stay in component state, never in
// the page address; the search is itself audited by the API.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { endpoints, type AuditEvent, type AuditSearch as Query, type Member } from '../../api/endpoints';
import { currentLanguage } from '../../i18n';
import { zonedToInstant } from '../../i18n/days';
import { formatDateTime } from '../../i18n/format';
import { useStaff } from '../StaffPage';
import { Feedback, useAction } from './AdminPage';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

function actorLabel(e: AuditEvent, t: TFunction): string {
  const role = e.actor.role ? t(`roles.${e.actor.role}`, { defaultValue: e.actor.role }) : '';
  if (e.actor.kind === 'api_key') return t('security.integration');
  if (e.actor.kind === 'system') return t('audit.system');
  if (e.actor.kind === 'anonymous') return t('audit.anonymous');
  if (e.actor.name) return role ? `${e.actor.name} (${role})` : e.actor.name;
  // A patient account or a former member: no name, the role and the account id only.
  return `${role || t('security.unknownActor')} — ${t('audit.account', { id: e.actor.userId ?? '' })}`;
}

export function AuditSearch({ people }: { people: Member[] }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const zone = establishment.timeZone;
  const [by, setBy] = useState<'actor' | 'patient'>('actor');
  const [actor, setActor] = useState('');
  const [patient, setPatient] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [query, setQuery] = useState<Query | undefined>(undefined);
  const [items, setItems] = useState<AuditEvent[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | null>(null);
  const { error, message, run } = useAction();

  const load = (q: Query, more: boolean) =>
    run(async () => {
      const page = await endpoints.auditSearch(establishment.id, q);
      setItems((old) => (more && old ? [...old, ...page.items] : page.items));
      setCursor(page.nextCursor ?? null);
    });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const q: Query = {
      ...(by === 'actor' ? { actorUserId: actor.trim() } : { patientId: patient.trim() }),
      ...(from ? { from: zonedToInstant(from, zone) } : {}),
      ...(to ? { to: zonedToInstant(to, zone) } : {}),
    };
    setQuery(q);
    void load(q, false);
  };

  return (
    <section className="panel" aria-labelledby="audit-title" data-testid="audit-search">
      <h2 id="audit-title">{t('audit.title')}</h2>
      <p className="field__hint">{t('audit.hint')}</p>
      <form className="form" onSubmit={submit}>
        <fieldset className="segmented">
          <legend>{t('audit.by')}</legend>
          <label>
            <input type="radio" name="audit-by" value="actor" checked={by === 'actor'} onChange={() => setBy('actor')} /> {t('audit.byActor')}
          </label>
          <label>
            <input type="radio" name="audit-by" value="patient" checked={by === 'patient'} onChange={() => setBy('patient')} /> {t('audit.byPatient')}
          </label>
        </fieldset>
        {by === 'actor' ? (
          <div className="field">
            <label htmlFor="audit-actor">{t('audit.actor')}</label>
            <input id="audit-actor" className="input" list="audit-members" required pattern={UUID} value={actor} onChange={(e) => setActor(e.target.value)} aria-describedby="audit-actor-hint" />
            <datalist id="audit-members">
              {people.map((p) => (
                <option key={p.userId} value={p.userId}>
                  {p.firstName} {p.lastName}
                </option>
              ))}
            </datalist>
            <p id="audit-actor-hint" className="field__hint">
              {t('audit.actorHint')}
            </p>
          </div>
        ) : (
          <div className="field">
            <label htmlFor="audit-patient">{t('audit.patient')}</label>
            <input id="audit-patient" className="input" required pattern={UUID} value={patient} onChange={(e) => setPatient(e.target.value)} aria-describedby="audit-patient-hint" />
            <p id="audit-patient-hint" className="field__hint">
              {t('audit.patientHint')}
            </p>
          </div>
        )}
        <div className="form--row">
          <div className="field">
            <label htmlFor="audit-from">{t('audit.from')}</label>
            <input id="audit-from" type="datetime-local" className="input" value={from} onChange={(e) => setFrom(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="audit-to">{t('audit.to')}</label>
            <input id="audit-to" type="datetime-local" className="input" value={to} onChange={(e) => setTo(e.target.value)} />
          </div>
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--primary">
            {t('audit.search')}
          </button>
        </div>
      </form>
      <Feedback error={error} message={message} />
      {items ? (
        <div aria-live="polite">
          <p className="muted" role="status">
            {t('audit.count', { count: items.length })}
          </p>
          <ul className="plain-list" data-testid="audit-results" aria-label={t('audit.results')}>
            {items.map((e) => (
              <li key={e.id} className="audit-event" data-outcome={e.outcome} data-integrity={e.integrity.status}>
                <p>
                  <strong>{actorLabel(e, t)}</strong> — {t(`actions.${e.action}`, { defaultValue: e.action })} — {formatDateTime(e.at, lang, zone)}
                </p>
                <p className="muted">
                  {[
                    t(`audit.outcomes.${e.outcome}`, { defaultValue: e.outcome }),
                    e.resourceKind ? t('audit.resource', { kind: t(`audit.kinds.${e.resourceKind}`, { defaultValue: e.resourceKind }), count: e.resourceCount }) : '',
                    e.categories.length > 0 ? e.categories.map((c) => t(`security.categories.${c}`, { defaultValue: c })).join(', ') : '',
                    e.patientIds.length > 0 ? t('security.patients', { count: e.patientIds.length }) : '',
                    e.purpose ? t('audit.purpose', { purpose: t(`audit.purposes.${e.purpose}`, { defaultValue: e.purpose }) }) : '',
                  ]
                    .filter((x) => x)
                    .join(' · ')}
                </p>
                {e.reason ? <p>{t('accessLog.reason', { reason: e.reason })}</p> : null}
                <span className={`badge badge--integrity-${e.integrity.status}`}>
                  {t(`audit.integrity.${e.integrity.status}`, {
                    seq: e.integrity.seq ?? '',
                    when: e.integrity.sealedAt ? formatDateTime(e.integrity.sealedAt, lang, zone) : '',
                  })}
                </span>
              </li>
            ))}
          </ul>
          {cursor && query ? (
            <button type="button" className="button button--secondary" onClick={() => void load({ ...query, cursor }, true)}>
              {t('audit.more')}
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
