// The security console: live alerts (refreshed every 15 s), contained accounts and their release,
// guard thresholds, and incidents: impact report, CNIL notification draft and patient letters.
// Export approvals: a second person (a security officer, never the requester) approves or
// rejects each bulk export request; the API asks for a step-up. Audit search: AuditSearch.tsx.
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { endpoints, type ExportRequest, type IncidentReport, type Member, type SecurityAlert } from '../../api/endpoints';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Page } from '../../components/Page';
import { currentLanguage } from '../../i18n';
import { zonedToInstant } from '../../i18n/days';
import { formatDateTime } from '../../i18n/format';
import { useLoad } from '../../useLoad';
import { useStaff } from '../StaffPage';
import { Feedback, useAction } from './AdminPage';
import { AuditSearch } from './AuditSearch';

const LIVE_MS = 15_000;

export function SecurityPage() {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [members] = useLoad(() => endpoints.members(establishment.id), 'security-members');
  const people = members.state === 'done' ? members.data.items : [];
  return (
    <Page title={t('security.title')}>
      <Alerts people={people} />
      <Exports people={people} />
      <Incidents people={people} />
      <AuditSearch people={people} />
      <Thresholds />
    </Page>
  );
}

function nameOf(people: Member[], id: string | null, t: (k: string) => string): string {
  if (!id) return t('security.integration');
  const m = people.find((p) => p.userId === id);
  return m ? `${m.firstName} ${m.lastName}` : t('security.unknownActor');
}

function Alerts({ people }: { people: Member[] }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const [status, setStatus] = useState<'open' | 'all'>('open');
  const [alerts, reload] = useLoad(() => endpoints.alerts(establishment.id, status), `alerts:${status}`);
  const { error, message, run } = useAction();
  useEffect(() => {
    const timer = window.setInterval(reload, LIVE_MS);
    return () => window.clearInterval(timer);
  }, [reload]);
  const items: SecurityAlert[] = alerts.state === 'done' ? alerts.data.items : [];
  const contained = items.filter((a) => a.kind === 'guard_containment' && !a.resolvedAt && a.actorUserId);

  return (
    <>
      <section className="panel" aria-labelledby="contained-title" data-testid="contained-accounts">
        <h2 id="contained-title">{t('security.contained')}</h2>
        <Feedback error={error} message={message} />
        {contained.length === 0 ? <p className="muted">{t('security.noContained')}</p> : null}
        <ul className="plain-list">
          {contained.map((a) => (
            <li key={a.id} className="row">
              <span>
                <strong>{nameOf(people, a.actorUserId, t)}</strong> — {formatDateTime(a.createdAt, lang, establishment.timeZone)}
                <br />
                <span className="muted">{t('security.signals', { list: String(a.details['signals'] ?? '') })}</span>
              </span>
              <button
                type="button"
                className="button button--primary"
                onClick={() =>
                  void run(async () => {
                    await endpoints.release(establishment.id, a.actorUserId!);
                    await endpoints.resolveAlert(establishment.id, a.id);
                  }, t('security.released')).then(reload)
                }
              >
                {t('security.release')}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="panel" aria-labelledby="alerts-title" data-testid="alerts">
        <h2 id="alerts-title">{t('security.alerts')}</h2>
        <div className="field field--check">
          <input id="alerts-all" type="checkbox" checked={status === 'all'} onChange={(e) => setStatus(e.target.checked ? 'all' : 'open')} />
          <label htmlFor="alerts-all">{t('security.showResolved')}</label>
        </div>
        <p className="field__hint">{t('security.live')}</p>
        {alerts.state === 'error' ? <ErrorNotice error={alerts.error} /> : null}
        {alerts.state === 'done' && items.length === 0 ? <p className="muted">{t('security.noAlert')}</p> : null}
        <ul className="cards">
          {items.map((a) => (
            <li key={a.id} className={`card card--${a.severity}`}>
              <h3 className="card__title">
                {t(`security.kinds.${a.kind}`, { defaultValue: a.kind })} <span className={`badge badge--${a.severity}`}>{t(`security.severity.${a.severity}`)}</span>
              </h3>
              <p className="card__meta">
                {nameOf(people, a.actorUserId, t)} · {formatDateTime(a.createdAt, lang, establishment.timeZone)} · {t('security.patients', { count: a.patientIds.length })}
              </p>
              {a.resolvedAt ? (
                <p className="muted">{t('security.resolvedAt', { when: formatDateTime(a.resolvedAt, lang, establishment.timeZone) })}</p>
              ) : (
                <button type="button" className="button button--secondary" onClick={() => void run(() => endpoints.resolveAlert(establishment.id, a.id), t('security.resolved')).then(reload)}>
                  {t('security.resolve')}
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function Exports({ people }: { people: Member[] }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment, user } = useStaff();
  const [exports, reload] = useLoad(() => endpoints.exports(establishment.id), 'security-exports');
  const { error, message, run } = useAction();
  const items: ExportRequest[] = exports.state === 'done' ? exports.data.items : [];
  return (
    <section className="panel" aria-labelledby="exports-title" data-testid="exports">
      <h2 id="exports-title">{t('security.exportsTitle')}</h2>
      <p className="field__hint">{t('security.exportsHint')}</p>
      {exports.state === 'error' ? <ErrorNotice error={exports.error} /> : null}
      {exports.state === 'done' && items.length === 0 ? <p className="muted">{t('security.noExport')}</p> : null}
      <ul className="cards">
        {items.map((x) => (
          <li key={x.id} className="card">
            <h3 className="card__title">
              {t(`security.exportKinds.${x.kind}`, { defaultValue: x.kind })} <span className="badge">{t(`security.exportStatus.${x.status}`, { defaultValue: x.status })}</span>
            </h3>
            <p className="card__meta">
              {nameOf(people, x.requestedBy, t)} · {formatDateTime(x.requestedAt, lang, establishment.timeZone)}
            </p>
            <p>{x.purpose}</p>
            {x.status === 'pending' && x.requestedBy !== user.id ? (
              <div className="card__actions">
                <button type="button" className="button button--primary" onClick={() => void run(() => endpoints.approveExport(establishment.id, x.id), t('security.exportApproved')).then(reload)}>
                  {t('security.approveExport')}
                </button>
                <button type="button" className="button button--secondary" onClick={() => void run(() => endpoints.rejectExport(establishment.id, x.id), t('security.exportRejected')).then(reload)}>
                  {t('security.rejectExport')}
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      <Feedback error={error} message={message} />
    </section>
  );
}

function Incidents({ people }: { people: Member[] }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const zone = establishment.timeZone;
  const [actor, setActor] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [report, setReport] = useState<IncidentReport | undefined>(undefined);
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const [letters, setLetters] = useState<string[] | undefined>(undefined);
  const { error, message, run } = useAction();

  const open = (event: FormEvent) => {
    event.preventDefault();
    setDraft(undefined);
    setLetters(undefined);
    void run(async () => setReport(await endpoints.openIncident(establishment.id, { actorUserId: actor, from: zonedToInstant(from, zone), to: zonedToInstant(to, zone) })));
  };
  return (
    <section className="panel" aria-labelledby="incidents-title" data-testid="incidents">
      <h2 id="incidents-title">{t('security.incidents')}</h2>
      <form className="form form--row" onSubmit={open}>
        <div className="field">
          <label htmlFor="incident-actor">{t('security.actor')}</label>
          <select id="incident-actor" className="input" required value={actor} onChange={(e) => setActor(e.target.value)}>
            <option value="">{t('security.chooseActor')}</option>
            {people.map((p) => (
              <option key={p.userId} value={p.userId}>
                {p.firstName} {p.lastName}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="incident-from">{t('settings.from')}</label>
          <input id="incident-from" type="datetime-local" className="input" required value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="incident-to">{t('settings.to')}</label>
          <input id="incident-to" type="datetime-local" className="input" required value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--primary">
            {t('security.openIncident')}
          </button>
        </div>
      </form>
      <Feedback error={error} message={message} />
      {report ? (
        <div className="incident" data-testid="incident-report">
          <h3>{t('security.report')}</h3>
          <p>{t('security.totals', { patients: report.totals.patients, accesses: report.totals.accesses, refused: report.totals.refused })}</p>
          <ul>
            {report.byCategory.map((c) => (
              <li key={c.category}>{t('security.category', { category: t(`security.categories.${c.category}`, { defaultValue: c.category }), patients: c.patients })}</li>
            ))}
          </ul>
          <p className={report.clock.overdue ? 'notice notice--error' : 'muted'}>{t('security.deadline', { when: formatDateTime(report.clock.deadline, lang, zone) })}</p>
          <div className="form__actions">
            <button type="button" className="button button--secondary" onClick={() => void run(async () => setDraft((await endpoints.incidentNotification(establishment.id, report.id, lang)).markdown))}>
              {t('security.cnilDraft')}
            </button>
            <button type="button" className="button button--secondary" onClick={() => void run(async () => setLetters((await endpoints.incidentLetters(establishment.id, report.id, lang)).items.map((l) => l.markdown)))}>
              {t('security.letters')}
            </button>
            <button
              type="button"
              className="button button--primary"
              data-testid="notify-patients"
              onClick={() =>
                void run(async () => {
                  setReport(await endpoints.notifyIncident(establishment.id, report.id, lang));
                  return t('security.notified', { count: report.totals.patients });
                })
              }
            >
              {t('security.notifyPatients')}
            </button>
          </div>
          {draft ? (
            <div>
              <h4>{t('security.cnilDraft')}</h4>
              <pre className="document" tabIndex={0}>
                {draft}
              </pre>
            </div>
          ) : null}
          {letters ? (
            <div>
              <h4>{t('security.lettersCount', { count: letters.length })}</h4>
              {letters.map((l, i) => (
                <pre key={i} className="document" tabIndex={0}>
                  {l}
                </pre>
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

const ROLE_ROWS = ['practitioner', 'secretary', 'patient', 'api_key'] as const;
const COLUMNS = [
  { kind: 'unexplained', limit: 'stepUp' },
  { kind: 'unexplained', limit: 'contain' },
  { kind: 'explained', limit: 'stepUp' },
  { kind: 'explained', limit: 'contain' },
] as const;
type Lim = { stepUp: number; contain: number };
type RoleLimits = { unexplained?: Record<string, Lim>; explained?: Record<string, Lim> };

function Thresholds() {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [current, reload] = useLoad(() => endpoints.thresholds(establishment.id), 'thresholds');
  const { error, message, run } = useAction();
  const [values, setValues] = useState<Record<string, string>>({});
  const effective = current.state === 'done' ? (current.data.effective as { roles?: Record<string, RoleLimits> }) : undefined;
  const shown = (role: string, kind: 'unexplained' | 'explained', limit: 'stepUp' | 'contain') => effective?.roles?.[role]?.[kind]?.['5m']?.[limit];

  const save = (event: FormEvent) => {
    event.preventDefault();
    const roles: Record<string, Record<string, { '5m': Partial<Lim> }>> = {};
    for (const role of ROLE_ROWS) {
      for (const c of COLUMNS) {
        const v = values[`${role}.${c.kind}.${c.limit}`];
        if (!v) continue;
        const r = (roles[role] ??= {});
        const w = (r[c.kind] ??= { '5m': {} });
        w['5m'][c.limit] = Number(v);
      }
    }
    void run(() => endpoints.setThresholds(establishment.id, { roles }), t('settings.saved')).then((ok) => {
      if (ok) {
        setValues({});
        reload();
      }
    });
  };
  return (
    <section className="panel" aria-labelledby="thresholds-title" data-testid="thresholds">
      <h2 id="thresholds-title">{t('security.thresholds')}</h2>
      <p className="field__hint">{t('security.thresholdsHint')}</p>
      {current.state === 'error' ? <ErrorNotice error={current.error} /> : null}
      <form className="form" onSubmit={save}>
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('security.thresholds')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.role')}</th>
                {COLUMNS.map((c) => (
                  <th scope="col" key={`${c.kind}.${c.limit}`}>
                    {t(`security.columns.${c.kind}.${c.limit}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {ROLE_ROWS.map((role) => (
                <tr key={role}>
                  <th scope="row">{t(`roles.${role}`, { defaultValue: role })}</th>
                  {COLUMNS.map((c) => (
                    <td key={`${c.kind}.${c.limit}`}>
                      <label className="visually-hidden" htmlFor={`th-${role}-${c.kind}-${c.limit}`}>
                        {t(`security.columns.${c.kind}.${c.limit}`)} — {t(`roles.${role}`, { defaultValue: role })}
                      </label>
                      <input
                        id={`th-${role}-${c.kind}-${c.limit}`}
                        type="number"
                        min={c.limit === 'contain' ? 1 : 0}
                        className="input input--narrow"
                        placeholder={String(shown(role, c.kind, c.limit) ?? '')}
                        value={values[`${role}.${c.kind}.${c.limit}`] ?? ''}
                        onChange={(e) => setValues({ ...values, [`${role}.${c.kind}.${c.limit}`]: e.target.value })}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <Feedback error={error} message={message} />
        <div className="form__actions">
          <button type="submit" className="button button--primary">
            {t('security.saveThresholds')}
          </button>
        </div>
      </form>
    </section>
  );
}
