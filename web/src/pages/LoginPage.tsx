// Login: e-mail and password, then a TOTP code when the API asks for a second factor; or a passkey
// (WebAuthn), on its own or as the second factor.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router';
import { browserSupportsWebAuthn, startAuthentication, WebAuthnError } from '@simplewebauthn/browser';
import { ApiError } from '../api/client';
import { endpoints, unwrapWebAuthnOptions, type LoginResult } from '../api/endpoints';
import { CodeInput } from '../components/CodeInput';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { displayName, isStaff, useSession } from '../session';
import { paths } from '../paths';
import { readReturnState } from '../booking';

type Step = { kind: 'password' } | { kind: 'mfa'; challengeId: string; methods: string[] };
type Failure = { kind: 'api'; error: unknown } | { kind: 'text'; key: string } | undefined;

export function LoginPage() {
  const { t } = useTranslation();
  const { session, refresh } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure>(undefined);
  const passkeys = browserSupportsWebAuthn();

  const done = async () => {
    const next = await refresh();
    const back = readReturnState(location.state);
    const fallback = next.status === 'authenticated' && isStaff(next.user) ? paths.staff : paths.appointments;
    void navigate(back?.from ?? fallback, { replace: true, state: back?.resume ? { resume: back.resume } : null });
  };

  const handle = async (result: LoginResult) => {
    if (result.status === 'mfa_required') {
      setCode('');
      setStep({ kind: 'mfa', challengeId: result.challengeId, methods: result.methods });
    } else if (result.status === 'mfa_enrolment_required') {
      // Staff without a second factor yet: the account page enrols one.
      await refresh();
      void navigate(paths.account, { replace: true });
    } else {
      await done();
    }
  };

  const run = async (action: () => Promise<void>, onApiError?: (e: ApiError) => Failure) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await action();
    } catch (error) {
      if (error instanceof WebAuthnError || (error instanceof DOMException && error.name === 'NotAllowedError')) {
        setFailure({ kind: 'text', key: 'login.passkeyCancelled' });
      } else {
        setFailure((error instanceof ApiError ? onApiError?.(error) : undefined) ?? { kind: 'api', error });
      }
    } finally {
      setBusy(false);
    }
  };

  const submitPassword = (event: FormEvent) => {
    event.preventDefault();
    void run(
      async () => handle(await endpoints.login(email, password)),
      (e) => (e.code === 'invalid_credentials' ? { kind: 'text', key: 'login.invalidCredentials' } : undefined),
    );
  };

  const submitCode = (event: FormEvent) => {
    event.preventDefault();
    if (step.kind !== 'mfa') return;
    void run(
      async () => handle(await endpoints.loginMfa(step.challengeId, code)),
      (e) => (e.code === 'invalid_credentials' || e.code === 'invalid_request' ? { kind: 'text', key: 'login.invalidCode' } : undefined),
    );
  };

  const loginWithPasskey = () => {
    const challenge = step.kind === 'mfa' ? { challengeId: step.challengeId } : {};
    void run(async () => {
      const { options, flow } = unwrapWebAuthnOptions(await endpoints.webauthnLoginOptions(challenge));
      const response = await startAuthentication({ optionsJSON: options });
      await handle(await endpoints.webauthnLoginVerify({ ...challenge, ...flow, response }));
    });
  };

  if (session.status === 'authenticated') {
    return (
      <Page title={t('login.title')}>
        <p>{t('login.alreadyIn', { name: displayName(session.user) })}</p>
      </Page>
    );
  }

  const failureNotice =
    failure?.kind === 'text' ? (
      <div className="notice notice--error" role="alert">
        <p>{t(failure.key)}</p>
      </div>
    ) : failure?.kind === 'api' ? (
      <ErrorNotice error={failure.error} />
    ) : null;

  const passkeyButton = passkeys ? (
    <div className="alt-login">
      <button type="button" className="button button--secondary" onClick={loginWithPasskey} disabled={busy} data-testid="passkey-login">
        {t('login.passkey')}
      </button>
      <p className="field__hint">{t('login.passkeyHint')}</p>
    </div>
  ) : (
    <p className="muted">{t('login.passkeyUnsupported')}</p>
  );

  if (step.kind === 'mfa') {
    return (
      <Page title={t('login.mfaTitle')} className="narrow">
        <form className="form panel" onSubmit={submitCode} aria-describedby="mfa-intro" data-testid="mfa-form">
          {failureNotice}
          {step.methods.includes('totp') || step.methods.length === 0 ? (
            <>
              <p id="mfa-intro">{t('login.mfaIntro')}</p>
              <CodeInput id="login-code" value={code} onChange={setCode} />
              <div className="form__actions">
                <button type="submit" className="button button--primary" disabled={busy}>
                  {busy ? t('login.working') : t('login.verify')}
                </button>
              </div>
            </>
          ) : null}
          {step.methods.includes('webauthn') ? passkeyButton : null}
          <button type="button" className="button button--link" onClick={() => setStep({ kind: 'password' })}>
            {t('login.back')}
          </button>
        </form>
      </Page>
    );
  }

  return (
    <Page title={t('login.title')} className="narrow">
      <form className="form panel" onSubmit={submitPassword} aria-describedby="login-intro" data-testid="login-form">
        <p id="login-intro">{t('login.intro')}</p>
        {failureNotice}
        <div className="field">
          <label htmlFor="login-email">{t('login.email')}</label>
          <input id="login-email" name="email" type="email" className="input" autoComplete="username webauthn" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="login-password">{t('login.password')}</label>
          <input id="login-password" name="password" type="password" className="input" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? t('login.working') : t('login.submit')}
          </button>
        </div>
        <p className="separator" aria-hidden="true">
          <span>{t('login.or')}</span>
        </p>
        {passkeyButton}
      </form>
      <p className="form-links">
        <Link to={paths.signup} state={location.state}>
          {t('login.noAccount')}
        </Link>{' '}
        · <Link to={paths.forgotPassword}>{t('login.forgot')}</Link>
      </p>
    </Page>
  );
}
