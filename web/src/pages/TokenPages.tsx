// Pages that the identity module's e-mails link to. The one-time token is in the URL fragment
// (never sent to a server by the browser, never logged); the page posts it to the API and
// removes it from the address bar at once.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client';
import { endpoints } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { paths } from '../paths';

function useFragmentToken(): string {
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '');
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(window.history.state, '', window.location.pathname);
  }, []);
  return token;
}

export function VerifyEmailPage() {
  const { t } = useTranslation();
  const token = useFragmentToken();
  const [state, setState] = useState<{ kind: 'working' } | { kind: 'done' } | { kind: 'error'; error: unknown }>({ kind: 'working' });
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    endpoints.verifyEmail(token).then(
      () => setState({ kind: 'done' }),
      (error: unknown) => setState({ kind: 'error', error }),
    );
  }, [token]);
  return (
    <Page title={t('verify.title')} className="narrow">
      {state.kind === 'working' ? <p className="muted">{t('app.loading')}</p> : null}
      {state.kind === 'done' ? (
        <div className="notice notice--success" role="status">
          <p>{t('verify.done')}</p>
          <p>
            <Link to={paths.login}>{t('auth.loginLink')}</Link>
          </p>
        </div>
      ) : null}
      {state.kind === 'error' ? <ErrorNotice error={state.error} /> : null}
    </Page>
  );
}

function PasswordForm({ id, submitLabel, onSubmit }: { id: string; submitLabel: string; onSubmit: (password: string | undefined) => Promise<void> }) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit(password || undefined);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form panel" onSubmit={(e) => void submit(e)}>
      {error ? <ErrorNotice error={error} /> : null}
      <div className="field">
        <label htmlFor={id}>{t('signup.newPassword')}</label>
        <input id={id} type="password" className="input" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby={`${id}-hint`} />
        <p id={`${id}-hint`} className="field__hint">
          {t('signup.passwordHint')}
        </p>
      </div>
      <div className="form__actions">
        <button type="submit" className="button button--primary" disabled={busy}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}

export function InvitationPage() {
  const { t } = useTranslation();
  const token = useFragmentToken();
  const [done, setDone] = useState(false);
  return (
    <Page title={t('invitation.title')} className="narrow">
      {done ? (
        <div className="notice notice--success" role="status">
          <p>{t('invitation.done')}</p>
          <p>
            <Link to={paths.login}>{t('auth.loginLink')}</Link>
          </p>
        </div>
      ) : (
        <>
          <p>{t('invitation.intro')}</p>
          <PasswordForm
            id="invitation-password"
            submitLabel={t('invitation.accept')}
            onSubmit={async (password) => {
              await endpoints.acceptInvitation(token, password);
              setDone(true);
            }}
          />
        </>
      )}
    </Page>
  );
}

export function ResetPasswordPage() {
  const { t } = useTranslation();
  const token = useFragmentToken();
  const [done, setDone] = useState(false);
  return (
    <Page title={t('reset.title')} className="narrow">
      {done ? (
        <div className="notice notice--success" role="status">
          <p>{t('reset.done')}</p>
          <p>
            <Link to={paths.login}>{t('auth.loginLink')}</Link>
          </p>
        </div>
      ) : (
        <PasswordForm
          id="reset-password"
          submitLabel={t('reset.submit')}
          onSubmit={async (password) => {
            await api.post<unknown>('/auth/password/reset', { token, password: password ?? '' });
            setDone(true);
          }}
        />
      )}
    </Page>
  );
}

export function ForgotPasswordPage() {
  const { t } = useTranslation();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await api.post<unknown>('/auth/password/forgot', { email });
      setSent(true);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Page title={t('reset.forgotTitle')} className="narrow">
      {sent ? (
        <p className="notice notice--success" role="status">
          {t('reset.sent')}
        </p>
      ) : (
        <form className="form panel" onSubmit={(e) => void submit(e)}>
          {error ? <ErrorNotice error={error} /> : null}
          <div className="field">
            <label htmlFor="forgot-email">{t('login.email')}</label>
            <input id="forgot-email" type="email" className="input" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <div className="form__actions">
            <button type="submit" className="button button--primary">
              {t('reset.send')}
            </button>
          </div>
        </form>
      )}
    </Page>
  );
}
