import { useTranslation } from 'react-i18next';
import { Link, NavLink, useNavigate } from 'react-router';
import { displayName, isStaff, useSession } from '../session';
import { LanguageSwitch } from './LanguageSwitch';
import { paths } from '../paths';

export function Header() {
  const { t } = useTranslation();
  const { session, logout } = useSession();
  const navigate = useNavigate();
  const user = session.status === 'authenticated' ? session.user : undefined;

  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link to={paths.home} className="brand" aria-label={`${t('app.name')} — ${t('app.tagline')}`}>
          <span className="brand__mark" aria-hidden="true" />
          <span className="brand__name">{t('app.name')}</span>
        </Link>
        <div className="site-header__tools">
          <LanguageSwitch />
          {user ? (
            <div className="account">
              <span className="account__name" data-testid="account-name">
                {t('nav.signedInAs', { name: displayName(user) })}
              </span>
              <button
                type="button"
                className="button button--secondary"
                onClick={() => {
                  void logout().then(() => navigate(paths.home));
                }}
              >
                {t('nav.logout')}
              </button>
            </div>
          ) : session.status === 'anonymous' ? (
            <Link to={paths.login} className="button button--primary" data-testid="login-link">
              {t('nav.login')}
            </Link>
          ) : null}
        </div>
        <nav className="site-nav" aria-label={t('app.mainNav')}>
          <ul>
            <li>
              <NavLink to={paths.home} end>
                {t('nav.search')}
              </NavLink>
            </li>
            {user ? (
              <>
                <li>
                  <NavLink to={paths.appointments}>{t('nav.appointments')}</NavLink>
                </li>
                <li>
                  <NavLink to={paths.accessLog}>{t('nav.accessLog')}</NavLink>
                </li>
                <li>
                  <NavLink to={paths.notices}>{t('nav.notices')}</NavLink>
                </li>
                <li>
                  <NavLink to={paths.account}>{t('nav.account')}</NavLink>
                  <NavLink to={paths.documents}>{t('nav.documents')}</NavLink>
                </li>
                {isStaff(user) ? (
                  <li>
                    <NavLink to={paths.staff}>{t('nav.staff')}</NavLink>
                  </li>
                ) : null}
              </>
            ) : null}
          </ul>
        </nav>
      </div>
    </header>
  );
}
