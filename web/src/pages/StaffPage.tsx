// The practitioner and secretary workspace, the admin and the security consoles will hang here.
import { useTranslation } from 'react-i18next';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { isStaff } from '../session';

export function StaffPage() {
  const { t } = useTranslation();
  return (
    <RequireLogin title={t('staff.title')}>
      {(user) => (
        <Page title={t('staff.title')}>
          {isStaff(user) ? (
            <>
              <p className="lead">{t('staff.intro')}</p>
              <section aria-labelledby="memberships-title" className="panel">
                <h2 id="memberships-title">{t('staff.memberships')}</h2>
                <ul data-testid="memberships">
                  {user.memberships.map((m) => (
                    <li key={`${m.establishmentId}-${m.role}`}>{t('staff.membership', { id: m.establishmentId, role: t(`roles.${m.role}`, { defaultValue: m.role }) })}</li>
                  ))}
                </ul>
              </section>
              <p className="notice notice--info">{t('staff.soon')}</p>
            </>
          ) : (
            <p className="notice notice--info">{t('staff.notStaff')}</p>
          )}
        </Page>
      )}
    </RequireLogin>
  );
}
