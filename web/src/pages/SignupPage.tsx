// Patient sign-up, reachable from the booking flow: the account must confirm its e-mail address
// before booking (the API refuses otherwise), so the page says to open the link we sent.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { paths } from '../paths';

export function SignupPage() {
  const { t } = useTranslation();
  const location = useLocation();
  const [form, setForm] = useState({ firstName: '', lastName: '', birthDate: '', email: '', phone: '', password: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [sent, setSent] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { phone, ...rest } = form;
      await endpoints.signup(phone ? { ...rest, phone } : rest);
      setSent(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const passwordProblem = error instanceof ApiError && error.problem.errors?.some((f) => f.field === 'body.password');
  if (sent) {
    return (
      <Page title={t('signup.title')} className="narrow">
        <div className="notice notice--success" role="status" data-testid="signup-sent">
          <p>{t('signup.sent')}</p>
          <p>
            <Link to={paths.login} state={location.state}>
              {t('signup.thenLogin')}
            </Link>
          </p>
        </div>
      </Page>
    );
  }
  return (
    <Page title={t('signup.title')} className="narrow">
      <form className="form panel" onSubmit={(e) => void submit(e)} data-testid="signup-form">
        <p>{t('signup.intro')}</p>
        {error ? passwordProblem ? <p className="notice notice--error" role="alert">{t('signup.weakPassword')}</p> : <ErrorNotice error={error} /> : null}
        <div className="field">
          <label htmlFor="signup-first">{t('signup.firstName')}</label>
          <input id="signup-first" className="input" autoComplete="given-name" required value={form.firstName} onChange={set('firstName')} />
        </div>
        <div className="field">
          <label htmlFor="signup-last">{t('signup.lastName')}</label>
          <input id="signup-last" className="input" autoComplete="family-name" required value={form.lastName} onChange={set('lastName')} />
        </div>
        <div className="field">
          <label htmlFor="signup-birth">{t('signup.birthDate')}</label>
          <input id="signup-birth" type="date" className="input" autoComplete="bday" required value={form.birthDate} onChange={set('birthDate')} />
        </div>
        <div className="field">
          <label htmlFor="signup-email">{t('login.email')}</label>
          <input id="signup-email" type="email" className="input" autoComplete="email" required value={form.email} onChange={set('email')} />
        </div>
        <div className="field">
          <label htmlFor="signup-phone">{t('signup.phone')}</label>
          <input id="signup-phone" type="tel" className="input" autoComplete="tel" value={form.phone} onChange={set('phone')} />
        </div>
        <div className="field">
          <label htmlFor="signup-password">{t('login.password')}</label>
          <input id="signup-password" type="password" className="input" autoComplete="new-password" required minLength={12} aria-describedby="signup-password-hint" value={form.password} onChange={set('password')} />
          <p id="signup-password-hint" className="field__hint">
            {t('signup.passwordHint')}
          </p>
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={busy}>
            {t('signup.submit')}
          </button>
        </div>
      </form>
    </Page>
  );
}
