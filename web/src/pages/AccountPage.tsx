// My account: open sessions (end any of them), second factors (authenticator app, passkeys,
// recovery codes) and "download my data". Secrets shown once (TOTP secret, recovery codes) stay in
// component state and are never stored.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';
import { ApiError } from '../api/client';
import { endpoints, unwrapWebAuthnOptions, type CurrentUser } from '../api/endpoints';
import { CodeInput } from '../components/CodeInput';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { currentLanguage } from '../i18n';
import { formatDateTime } from '../i18n/format';
import { useLoad } from '../useLoad';

export function AccountPage() {
  const { t } = useTranslation();
  return (
    <RequireLogin title={t('account.title')}>
      {(user) => (
        <Page title={t('account.title')}>
          <SecondFactors />
          <Sessions />
          <MyData user={user} />
        </Page>
      )}
    </RequireLogin>
  );
}

function Sessions() {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const [list, reload] = useLoad(() => endpoints.sessions(), 'sessions');
  const [error, setError] = useState<unknown>(undefined);
  const end = async (id: string) => {
    setError(undefined);
    try {
      await endpoints.endSession(id);
      reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="panel" aria-labelledby="sessions-title" data-testid="sessions">
      <h2 id="sessions-title">{t('account.sessions')}</h2>
      {error ? <ErrorNotice error={error} /> : null}
      {list.state === 'error' ? <ErrorNotice error={list.error} /> : null}
      {list.state === 'done' ? (
        <ul className="plain-list">
          {list.data.items.map((s) => (
            <li key={s.id} className="row">
              <div>
                <p>
                  <strong>{s.userAgent ?? t('account.unknownDevice')}</strong>
                  {s.current ? ` — ${t('account.thisSession')}` : ''}
                </p>
                <p className="muted">{t('account.sessionMeta', { ip: s.ip ?? '?', since: formatDateTime(s.createdAt, lang), last: formatDateTime(s.lastSeenAt, lang) })}</p>
                {s.newDevice || s.newIp ? <p className="badge badge--urgent">{t('account.newDevice')}</p> : null}
              </div>
              {s.current ? null : (
                <button type="button" className="button button--secondary" onClick={() => void end(s.id)}>
                  {t('account.endSession')}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function SecondFactors() {
  const { t } = useTranslation();
  const [me, reload] = useLoad(() => endpoints.me(), 'me-factors');
  const [setup, setSetup] = useState<{ secret: string; otpauthUrl: string } | undefined>(undefined);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | undefined>(undefined);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const factors = me.state === 'done' ? me.data.secondFactors : undefined;

  const run = async (action: () => Promise<void>) => {
    setError(undefined);
    setMessage(undefined);
    try {
      await action();
    } catch (e) {
      setError(e);
    }
  };
  const startTotp = () => run(async () => setSetup(await endpoints.totpSetup()));
  const confirmTotp = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const result = await endpoints.totpConfirm(code);
      setSetup(undefined);
      setCodes(result.recoveryCodes);
      setMessage(t('account.totpOn'));
      reload();
    });
  };
  const addPasskey = () =>
    run(async () => {
      const answer = await endpoints.webauthnRegisterOptions();
      const { options, flow } = unwrapWebAuthnOptions(answer);
      const response = await startRegistration({ optionsJSON: options });
      await endpoints.webauthnRegisterVerify({ ...flow, response, name: t('account.passkeyName') });
      setMessage(t('account.passkeyAdded'));
      reload();
    });
  const newCodes = () => run(async () => setCodes((await endpoints.recoveryCodes()).recoveryCodes));

  return (
    <section className="panel" aria-labelledby="factors-title" data-testid="second-factors">
      <h2 id="factors-title">{t('account.factors')}</h2>
      <div aria-live="polite">
        {message ? (
          <p className="notice notice--success" role="status">
            {message}
          </p>
        ) : null}
      </div>
      {error ? error instanceof ApiError && error.code === 'invalid_request' ? <p className="notice notice--error" role="alert">{t('login.invalidCode')}</p> : <ErrorNotice error={error} /> : null}
      {factors ? (
        <ul className="plain-list" data-testid="factor-summary">
          <li>{factors.totp ? t('account.totpYes') : t('account.totpNo')}</li>
          <li>{t('account.passkeys', { count: factors.passkeys })}</li>
          <li>{t('account.recoveryLeft', { count: factors.recoveryCodesLeft })}</li>
          {factors.passkeyRequired ? <li className="notice notice--info">{t('account.passkeyRequired')}</li> : null}
        </ul>
      ) : null}
      <div className="form__actions">
        {factors && !factors.totp && !setup ? (
          <button type="button" className="button button--secondary" onClick={() => void startTotp()}>
            {t('account.totpSetup')}
          </button>
        ) : null}
        {browserSupportsWebAuthn() ? (
          <button type="button" className="button button--primary" onClick={() => void addPasskey()} data-testid="add-passkey">
            {t('account.addPasskey')}
          </button>
        ) : null}
        {factors && (factors.totp || factors.passkeys > 0) ? (
          <button type="button" className="button button--ghost" onClick={() => void newCodes()}>
            {t('account.newCodes')}
          </button>
        ) : null}
      </div>
      {setup ? (
        <form className="form" onSubmit={confirmTotp}>
          <p>{t('account.totpIntro')}</p>
          <p>
            <code className="secret" data-testid="totp-secret">
              {setup.secret}
            </code>
          </p>
          <CodeInput id="totp-confirm" value={code} onChange={setCode} />
          <div className="form__actions">
            <button type="submit" className="button button--primary">
              {t('account.totpConfirm')}
            </button>
          </div>
        </form>
      ) : null}
      {codes ? (
        <div className="notice notice--info">
          <p>{t('account.codesIntro')}</p>
          <ul className="codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

/**
 * GDPR access and portability. `GET /me/export` when the server has it (records module); until
 * then, what this account can already read of itself, gathered in one JSON file.
 */
function MyData({ user }: { user: CurrentUser }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    setError(undefined);
    try {
      let data: unknown;
      try {
        data = await endpoints.myExport();
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
        const [appointments, accessLog, waitlist] = await Promise.all([endpoints.myAppointments(), endpoints.myAccessLog(), endpoints.myWaitlist()]);
        data = { exportedAt: new Date().toISOString(), account: { id: user.id, email: user.email, firstName: user.firstName, lastName: user.lastName }, appointments: appointments.items, accessLog: accessLog.items, waitlist: waitlist.items };
      }
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'hygie-mes-donnees.json';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-labelledby="data-title">
      <h2 id="data-title">{t('account.data')}</h2>
      <p>{t('account.dataIntro')}</p>
      {error ? <ErrorNotice error={error} /> : null}
      <button type="button" className="button button--secondary" onClick={() => void download()} disabled={busy} data-testid="download-data">
        {t('account.download')}
      </button>
    </section>
  );
}
