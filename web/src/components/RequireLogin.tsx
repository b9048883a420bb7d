// Pages of a logged-in user: while the session loads, wait; when logged out, offer the login page,
// which comes back here afterwards (through navigation state, never the URL).
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';
import type { CurrentUser } from '../api/endpoints';
import { useSession } from '../session';
import { paths } from '../paths';
import { Page } from './Page';

export function RequireLogin({ title, children }: { title: string; children: (user: CurrentUser) => ReactNode }) {
  const { t } = useTranslation();
  const { session } = useSession();
  const location = useLocation();
  if (session.status === 'loading') {
    return (
      <Page title={title}>
        <p className="muted" role="status">
          {t('app.loading')}
        </p>
      </Page>
    );
  }
  if (session.status === 'anonymous') {
    return (
      <Page title={title}>
        <div className="notice notice--info" data-testid="login-required">
          <p>{t('auth.required')}</p>
          <p>
            <Link to={paths.login} state={{ from: location.pathname }} className="button button--primary">
              {t('auth.loginLink')}
            </Link>
          </p>
        </div>
      </Page>
    );
  }
  return <>{children(session.user)}</>;
}
