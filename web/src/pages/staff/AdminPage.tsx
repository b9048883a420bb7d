// The admin console: staff accounts and invitations, roles (granting admin or security officer
// waits for a second approver), approvals, API keys, and the establishment's time zone. Sensitive
// actions answer step_up_required; the API client then runs the step-up dialog and replays them.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { endpoints, type Member, type StaffRole } from '../../api/endpoints';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Page } from '../../components/Page';
import { currentLanguage } from '../../i18n';
import { formatDateTime } from '../../i18n/format';
import { useLoad } from '../../useLoad';
import { useStaff } from '../StaffPage';

const ROLES: StaffRole[] = ['practitioner', 'secretary', 'admin', 'security_officer'];
const SCOPES = ['agenda:read', 'agenda:write', 'patients:read'] as const;

export function useAction(): { error: unknown; message: string | undefined; run: (action: () => Promise<unknown>, done?: string) => Promise<boolean> } {
  const [error, setError] = useState<unknown>(undefined);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const run = async (action: () => Promise<unknown>, done?: string) => {
    setError(undefined);
    setMessage(undefined);
    try {
      // An action may answer its own message (e.g. "waiting for a second approver").
      const result = await action();
      setMessage(typeof result === 'string' ? result : done);
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  return { error, message, run };
}

export function Feedback({ error, message }: { error: unknown; message: string | undefined }) {
  return (
    <div aria-live="polite">
      {error ? <ErrorNotice error={error} /> : null}
      {message ? (
        <p className="notice notice--success" role="status">
          {message}
        </p>
      ) : null}
    </div>
  );
}

export function AdminPage() {
  const { t } = useTranslation();
  return (
    <Page title={t('admin.title')}>
      <Members />
      <Approvals />
      <ApiKeys />
      <EstablishmentSettings />
      <p className="notice notice--info">{t('admin.thresholdsElsewhere')}</p>
    </Page>
  );
}

function roleLabel(t: (k: string, o?: Record<string, unknown>) => string, role: string): string {
  return t(`roles.${role}`, { defaultValue: role });
}

function Members() {
  const { t } = useTranslation();
  const { establishment, user } = useStaff();
  const [members, reload] = useLoad(() => endpoints.members(establishment.id), 'members');
  const { error, message, run } = useAction();
  const [invite, setInvite] = useState({ email: '', firstName: '', lastName: '', role: 'secretary' as StaffRole });

  const pendingOr = (status: string, done: string) => (status === 'pending_approval' ? t('admin.pendingApproval') : done);
  const sendInvite = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const r = await endpoints.invite(establishment.id, invite);
      setInvite({ email: '', firstName: '', lastName: '', role: 'secretary' });
      return pendingOr(r.status, t('admin.invited'));
    }).then(() => reload());
  };

  const changeRole = (m: Member, role: StaffRole) =>
    void run(async () => {
      const r = await endpoints.setRole(establishment.id, m.userId, role);
      reload();
      return pendingOr(r.status, t('admin.roleChanged'));
    });

  return (
    <section className="panel" aria-labelledby="members-title" data-testid="members">
      <h2 id="members-title">{t('admin.members')}</h2>
      <Feedback error={error} message={message} />
      {members.state === 'error' ? <ErrorNotice error={members.error} /> : null}
      {members.state === 'done' ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{t('admin.members')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin.name')}</th>
                <th scope="col">{t('admin.role')}</th>
                <th scope="col">{t('admin.factors')}</th>
                <th scope="col">{t('admin.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {members.data.items.map((m) => (
                <tr key={m.userId}>
                  <td>
                    {m.firstName} {m.lastName}
                    <br />
                    <span className="muted">{m.email}</span>
                    {m.disabled ? <span className="badge badge--cancelled">{t('admin.disabled')}</span> : null}
                  </td>
                  <td>
                    <label className="visually-hidden" htmlFor={`role-${m.userId}`}>
                      {t('admin.roleOf', { name: `${m.firstName} ${m.lastName}` })}
                    </label>
                    <select id={`role-${m.userId}`} className="input" value={m.role} disabled={m.userId === user.id} onChange={(e) => changeRole(m, e.target.value as StaffRole)}>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {roleLabel(t, r)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{[m.secondFactors.totp ? 'TOTP' : null, m.secondFactors.passkeys > 0 ? t('account.passkeys', { count: m.secondFactors.passkeys }) : null].filter(Boolean).join(', ') || '—'}</td>
                  <td className="table__actions">
                    <button type="button" className="button button--ghost" onClick={() => void run(() => endpoints.revokeMemberSessions(establishment.id, m.userId), t('admin.sessionsEnded'))}>
                      {t('admin.endSessions')}
                    </button>
                    <button type="button" className="button button--ghost" onClick={() => void run(async () => pendingOr((await endpoints.resetMemberMfa(establishment.id, m.userId)).status, t('admin.mfaReset')))}>
                      {t('admin.resetMfa')}
                    </button>
                    {m.userId !== user.id ? (
                      <button type="button" className="button button--ghost" onClick={() => void run(() => endpoints.removeMember(establishment.id, m.userId), t('admin.removed')).then(reload)}>
                        {t('admin.remove')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form className="form form--row" onSubmit={sendInvite} data-testid="invite-form">
        <h3 className="form__title">{t('admin.invite')}</h3>
        <div className="field">
          <label htmlFor="invite-first">{t('signup.firstName')}</label>
          <input id="invite-first" className="input" required value={invite.firstName} onChange={(e) => setInvite({ ...invite, firstName: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="invite-last">{t('signup.lastName')}</label>
          <input id="invite-last" className="input" required value={invite.lastName} onChange={(e) => setInvite({ ...invite, lastName: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="invite-email">{t('login.email')}</label>
          <input id="invite-email" type="email" className="input" required value={invite.email} onChange={(e) => setInvite({ ...invite, email: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="invite-role">{t('admin.role')}</label>
          <select id="invite-role" className="input" value={invite.role} onChange={(e) => setInvite({ ...invite, role: e.target.value as StaffRole })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleLabel(t, r)}
              </option>
            ))}
          </select>
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--primary">
            {t('admin.sendInvite')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Approvals() {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const [list, reload] = useLoad(() => endpoints.approvals(establishment.id), 'approvals');
  const { error, message, run } = useAction();
  return (
    <section className="panel" aria-labelledby="approvals-title" data-testid="approvals">
      <h2 id="approvals-title">{t('admin.approvals')}</h2>
      <p className="field__hint">{t('admin.approvalsHint')}</p>
      <Feedback error={error} message={message} />
      {list.state === 'error' ? <ErrorNotice error={list.error} /> : null}
      {list.state === 'done' && list.data.items.length === 0 ? <p className="muted">{t('admin.noApproval')}</p> : null}
      {list.state === 'done' ? (
        <ul className="plain-list">
          {list.data.items.map((a) => (
            <li key={a.id} className="row">
              <span>
                {t(`admin.approvalKinds.${a.kind}`, { defaultValue: a.kind })}
                {a.role ? ` — ${roleLabel(t, a.role)}` : ''} · {t('admin.until', { when: formatDateTime(a.expiresAt, lang, establishment.timeZone) })}
              </span>
              <span className="table__actions">
                <button type="button" className="button button--primary" onClick={() => void run(() => endpoints.approve(establishment.id, a.id), t('admin.approved')).then(reload)}>
                  {t('admin.approve')}
                </button>
                <button type="button" className="button button--ghost" onClick={() => void run(() => endpoints.reject(establishment.id, a.id), t('admin.rejected')).then(reload)}>
                  {t('admin.reject')}
                </button>
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function ApiKeys() {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const [list, reload] = useLoad(() => endpoints.apiKeys(establishment.id), 'api-keys');
  const { error, message, run } = useAction();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['agenda:read']);
  const [ips, setIps] = useState('');
  const [created, setCreated] = useState<string | undefined>(undefined);
  const create = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const allowedIps = ips
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const key = await endpoints.createApiKey(establishment.id, { name, scopes: scopes.map((scope) => ({ scope })), ...(allowedIps.length ? { allowedIps } : {}) });
      setCreated(key.key);
      setName('');
      reload();
    });
  };
  return (
    <section className="panel" aria-labelledby="keys-title" data-testid="api-keys">
      <h2 id="keys-title">{t('admin.apiKeys')}</h2>
      <Feedback error={error} message={message} />
      {created ? (
        <div className="notice notice--info" role="status">
          <p>{t('admin.keyOnce')}</p>
          <p>
            <code className="secret" data-testid="new-api-key">
              {created}
            </code>
          </p>
        </div>
      ) : null}
      {list.state === 'error' ? <ErrorNotice error={list.error} /> : null}
      {list.state === 'done' && list.data.items.length === 0 ? <p className="muted">{t('admin.noKey')}</p> : null}
      {list.state === 'done' ? (
        <ul className="plain-list">
          {list.data.items.map((k) => (
            <li key={k.id} className="row">
              <span>
                <strong>{k.name}</strong> <code>{k.prefix}…</code> — {k.scopes.map((s) => s.scope).join(', ')}
                <br />
                <span className="muted">
                  {k.revoked ? t('admin.keyRevoked') : k.lastUsedAt ? t('admin.lastUsed', { when: formatDateTime(k.lastUsedAt, lang, establishment.timeZone) }) : t('admin.neverUsed')}
                </span>
              </span>
              {k.revoked ? null : (
                <button type="button" className="button button--ghost" aria-label={t('admin.revokeKey', { name: k.name })} onClick={() => void run(() => endpoints.revokeApiKey(establishment.id, k.id), t('admin.keyRevoked')).then(reload)}>
                  {t('admin.revoke')}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <form className="form" onSubmit={create}>
        <h3 className="form__title">{t('admin.newKey')}</h3>
        <div className="field">
          <label htmlFor="key-name">{t('admin.keyName')}</label>
          <input id="key-name" className="input" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <fieldset className="choices">
          <legend>{t('admin.scopes')}</legend>
          {SCOPES.map((s) => (
            <label key={s} className="choice">
              <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))} /> {t(`admin.scopeLabels.${s.replace(':', '_')}`)}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="key-ips">{t('admin.allowedIps')}</label>
          <input id="key-ips" className="input" placeholder="203.0.113.10, 198.51.100.0/24" value={ips} onChange={(e) => setIps(e.target.value)} />
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={scopes.length === 0}>
            {t('admin.createKey')}
          </button>
        </div>
      </form>
    </section>
  );
}

function EstablishmentSettings() {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [zone, setZone] = useState(establishment.timeZone);
  const { error, message, run } = useAction();
  return (
    <section className="panel" aria-labelledby="establishment-title">
      <h2 id="establishment-title">{t('admin.establishment')}</h2>
      <p>
        {establishment.name}, {establishment.postalCode} {establishment.city}
      </p>
      <Feedback error={error} message={message} />
      <form
        className="form form--row"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => endpoints.setTimeZone(establishment.id, zone), t('settings.saved'));
        }}
      >
        <div className="field">
          <label htmlFor="establishment-zone">{t('admin.timeZone')}</label>
          <input id="establishment-zone" className="input" required value={zone} onChange={(e) => setZone(e.target.value)} aria-describedby="establishment-zone-hint" />
          <p className="field__hint" id="establishment-zone-hint">
            {t('admin.timeZoneHint')}
          </p>
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--secondary">
            {t('settings.saveHours')}
          </button>
        </div>
      </form>
    </section>
  );
}
