// The professional space: the practitioner and secretary workspace (agenda, settings, patients),
// the admin console and the security console, each shown to the roles that may use it. The
// establishment worked in is chosen among the user's memberships and kept in memory.
import { createContext, useContext, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Route, Routes } from 'react-router';
import type { CurrentUser, EstablishmentForStaff, Membership, StaffRole } from '../api/endpoints';
import { endpoints } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { isStaff } from '../session';
import { useLoad } from '../useLoad';
import { paths } from '../paths';
import { AgendaPage } from './staff/AgendaPage';
import { SettingsPage } from './staff/SettingsPage';
import { PatientsPage } from './staff/PatientsPage';
import { AdminPage } from './staff/AdminPage';
import { SecurityPage } from './staff/SecurityPage';

export interface StaffContextValue {
  user: CurrentUser;
  membership: Membership;
  establishment: EstablishmentForStaff;
  role: StaffRole;
}

const StaffContext = createContext<StaffContextValue | undefined>(undefined);

export function useStaff(): StaffContextValue {
  const value = useContext(StaffContext);
  if (!value) throw new Error('useStaff outside the professional space');
  return value;
}

const CARE: StaffRole[] = ['practitioner', 'secretary'];
export const sectionsFor = (role: StaffRole) => ({
  agenda: CARE.includes(role),
  settings: CARE.includes(role) || role === 'admin',
  patients: CARE.includes(role),
  admin: role === 'admin',
  security: role === 'security_officer',
});

export function StaffPage() {
  const { t } = useTranslation();
  return (
    <RequireLogin title={t('staff.title')}>
      {(user) =>
        isStaff(user) ? (
          <StaffSpace user={user} />
        ) : (
          <Page title={t('staff.title')}>
            <p className="notice notice--info">{t('staff.notStaff')}</p>
          </Page>
        )
      }
    </RequireLogin>
  );
}

function StaffSpace({ user }: { user: CurrentUser }) {
  const { t } = useTranslation();
  const [index, setIndex] = useState(0);
  const membership = user.memberships[index] ?? user.memberships[0]!;
  const [establishment] = useLoad(() => endpoints.establishment(membership.establishmentId), `establishment:${membership.establishmentId}`);
  const sections = sectionsFor(membership.role);

  return (
    <div className="staff">
      <div className="staff__bar">
        {user.memberships.length > 1 ? (
          <div className="field field--inline">
            <label htmlFor="staff-establishment">{t('staff.establishment')}</label>
            <select id="staff-establishment" className="input" value={index} onChange={(e) => setIndex(Number(e.target.value))}>
              {user.memberships.map((m, i) => (
                <option key={`${m.establishmentId}-${m.role}`} value={i}>
                  {t('staff.membershipOption', { n: i + 1, role: t(`roles.${m.role}`, { defaultValue: m.role }) })}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <nav aria-label={t('staff.nav')} className="sub-nav">
          <ul>
            <li>
              <NavLink to={paths.staff} end>
                {t('staff.home')}
              </NavLink>
            </li>
            {sections.agenda ? (
              <li>
                <NavLink to={paths.agenda}>{t('staff.agenda')}</NavLink>
              </li>
            ) : null}
            {sections.settings ? (
              <li>
                <NavLink to={paths.settings}>{t('staff.settings')}</NavLink>
              </li>
            ) : null}
            {sections.patients ? (
              <li>
                <NavLink to={paths.patients}>{t('staff.patients')}</NavLink>
              </li>
            ) : null}
            {sections.admin ? (
              <li>
                <NavLink to={paths.admin}>{t('staff.admin')}</NavLink>
              </li>
            ) : null}
            {sections.security ? (
              <li>
                <NavLink to={paths.security}>{t('staff.security')}</NavLink>
              </li>
            ) : null}
          </ul>
        </nav>
      </div>
      {establishment.state === 'loading' ? (
        <Page title={t('staff.title')}>
          <p className="muted">{t('app.loading')}</p>
        </Page>
      ) : null}
      {establishment.state === 'error' ? (
        <Page title={t('staff.title')}>
          <ErrorNotice error={establishment.error} />
        </Page>
      ) : null}
      {establishment.state === 'done' ? (
        <StaffContext.Provider value={{ user, membership, establishment: establishment.data, role: membership.role }}>
          <Routes>
            <Route index element={<StaffHome />} />
            <Route path="agenda" element={<Guarded allowed={sections.agenda}>{<AgendaPage />}</Guarded>} />
            <Route path="reglages" element={<Guarded allowed={sections.settings}>{<SettingsPage />}</Guarded>} />
            <Route path="patients" element={<Guarded allowed={sections.patients}>{<PatientsPage />}</Guarded>} />
            <Route path="admin" element={<Guarded allowed={sections.admin}>{<AdminPage />}</Guarded>} />
            <Route path="securite" element={<Guarded allowed={sections.security}>{<SecurityPage />}</Guarded>} />
          </Routes>
        </StaffContext.Provider>
      ) : null}
    </div>
  );
}

/** A section the role may not use says so (the API would refuse it anyway). */
function Guarded({ allowed, children }: { allowed: boolean; children: ReactNode }) {
  const { t } = useTranslation();
  if (allowed) return <>{children}</>;
  return (
    <Page title={t('staff.title')}>
      <p className="notice notice--info" data-testid="section-refused">
        {t('staff.notForRole')}
      </p>
    </Page>
  );
}

function StaffHome() {
  const { t } = useTranslation();
  const { user, establishment, role } = useStaff();
  return (
    <Page title={t('staff.title')}>
      <p className="lead">{t('staff.welcome', { name: `${user.firstName} ${user.lastName}` })}</p>
      <section aria-labelledby="memberships-title" className="panel">
        <h2 id="memberships-title">{establishment.name}</h2>
        <p data-testid="memberships">
          {t('staff.membership', { city: establishment.city, role: t(`roles.${role}`, { defaultValue: role }) })}
        </p>
        <p className="muted">{t('staff.timeZone', { zone: establishment.timeZone })}</p>
      </section>
    </Page>
  );
}
