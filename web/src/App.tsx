import { useTranslation } from 'react-i18next';
import { Route, Routes } from 'react-router';
import { Header } from './components/Header';
import { StepUpDialog } from './components/StepUpDialog';
import { AccessLogPage } from './pages/AccessLogPage';
import { NoticesPage } from './pages/NoticesPage';
import { AppointmentsPage } from './pages/AppointmentsPage';
import { ContainedPage } from './pages/ContainedPage';
import { DocumentsPage } from './pages/DocumentsPage';
import { HomePage } from './pages/HomePage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { SearchResultsPage } from './pages/SearchResultsPage';
import { StaffPage } from './pages/StaffPage';
import { PractitionerPage } from './pages/PractitionerPage';
import { SignupPage } from './pages/SignupPage';
import { AccountPage } from './pages/AccountPage';
import { ForgotPasswordPage, InvitationPage, ResetPasswordPage, VerifyEmailPage } from './pages/TokenPages';
import { TeleconsultPage } from './pages/TeleconsultPage';
import { useSession } from './session';
import { paths } from './paths';

export function App() {
  const { t } = useTranslation();
  const { contained } = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <Header />
      <main id="main" className="site-main" tabIndex={-1}>
        {contained ? (
          <ContainedPage />
        ) : (
          <Routes>
            <Route path={paths.home} element={<HomePage />} />
            <Route path={paths.search} element={<SearchResultsPage />} />
            <Route path={paths.practitionerPattern} element={<PractitionerPage />} />
            <Route path={paths.login} element={<LoginPage />} />
            <Route path={paths.loginAlias} element={<LoginPage />} />
            <Route path={paths.signup} element={<SignupPage />} />
            <Route path={paths.account} element={<AccountPage />} />
            <Route path={paths.verifyEmail} element={<VerifyEmailPage />} />
            <Route path={paths.resetPassword} element={<ResetPasswordPage />} />
            <Route path={paths.forgotPassword} element={<ForgotPasswordPage />} />
            <Route path={paths.invitation} element={<InvitationPage />} />
            <Route path={paths.appointments} element={<AppointmentsPage />} />
            <Route path={paths.accessLog} element={<AccessLogPage />} />
            <Route path={paths.notices} element={<NoticesPage />} />
            <Route path={`${paths.staff}/*`} element={<StaffPage />} />
            <Route path={`${paths.teleconsult}/:appointmentId`} element={<TeleconsultPage />} />
            <Route path={paths.documents} element={<DocumentsPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        )}
      </main>
      <footer className="site-footer">
        <p>{t('app.footer')}</p>
      </footer>
      <StepUpDialog />
    </>
  );
}
