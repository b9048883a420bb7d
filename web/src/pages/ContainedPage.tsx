// Shown instead of any page once the API answers `account_contained`: the guard locked this account
// and revoked its sessions. Nothing else of the application is reachable from here.
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { Page } from '../components/Page';
import { useSession } from '../session';
import { paths } from '../paths';

export function ContainedPage() {
  const { t } = useTranslation();
  const { clearContained } = useSession();
  const navigate = useNavigate();
  return (
    <Page title={t('contained.title')} className="contained">
      <div className="notice notice--error" role="alert" data-testid="contained">
        <p>{t('contained.body')}</p>
        <p>{t('contained.next')}</p>
      </div>
      <button
        type="button"
        className="button button--secondary"
        onClick={() => {
          clearContained();
          void navigate(paths.home);
        }}
      >
        {t('contained.home')}
      </button>
    </Page>
  );
}
