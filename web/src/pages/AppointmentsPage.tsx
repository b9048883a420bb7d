import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, buildUrl } from '../api/client';
import { endpoints, type Appointment } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { currentLanguage } from '../i18n';
import { DEFAULT_TIME_ZONE, formatLongDateTime } from '../i18n/format';
import { useLoad } from '../useLoad';
import { paths } from '../paths';

export function AppointmentsPage() {
  const { t } = useTranslation();
  return <RequireLogin title={t('appointments.title')}>{() => <Appointments />}</RequireLogin>;
}

function zoneOf(a: Appointment): string {
  return (a.establishment && 'timeZone' in a.establishment ? a.establishment.timeZone : undefined) ?? DEFAULT_TIME_ZONE;
}

function Appointments() {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const [list, reload] = useLoad(() => endpoints.myAppointments(), 'me/appointments');
  const [confirming, setConfirming] = useState<Appointment | undefined>(undefined);
  const [actionError, setActionError] = useState<unknown>(undefined);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const dialog = useRef<HTMLDialogElement>(null);

  const askCancel = (a: Appointment) => {
    setConfirming(a);
    setActionError(undefined);
    dialog.current?.showModal();
  };
  const closeDialog = () => {
    dialog.current?.close();
    setConfirming(undefined);
  };
  const cancel = async () => {
    if (!confirming) return;
    try {
      await endpoints.cancelAppointment(confirming.id);
      setMessage(t('appointments.cancelled'));
      closeDialog();
      reload();
    } catch (error) {
      setActionError(error);
      closeDialog();
    }
  };

  return (
    <Page title={t('appointments.title')}>
      <p className="lead">{t('appointments.intro')}</p>
      <div aria-live="polite">
        {message ? (
          <p className="notice notice--success" role="status">
            {message}
          </p>
        ) : null}
      </div>
      {actionError ? <ErrorNotice error={actionError} /> : null}
      {list.state === 'loading' ? <p className="muted">{t('appointments.loading')}</p> : null}
      {list.state === 'error' ? (
        list.error instanceof ApiError && list.error.status === 404 && list.error.code === 'not_found' ? (
          <p className="notice notice--info">{t('appointments.unavailable')}</p>
        ) : (
          <ErrorNotice error={list.error} />
        )
      ) : null}
      {list.state === 'done' && list.data.items.length === 0 ? (
        <div className="notice notice--info">
          <p>{t('appointments.none')}</p>
          <p>
            <Link to={paths.home}>{t('appointments.findOne')}</Link>
          </p>
        </div>
      ) : null}
      {list.state === 'done' && list.data.items.length > 0 ? (
        <ul className="cards" data-testid="appointments">
          {list.data.items.map((a) => {
            const when = formatLongDateTime(a.start, lang, zoneOf(a));
            const motive = typeof a.motive === 'string' ? a.motive : a.motive?.label;
            return (
              <li key={a.id} className={`card card--${a.status}`}>
                <h2 className="card__title">
                  <time dateTime={a.start}>{when}</time>
                </h2>
                {a.practitioner ? (
                  <p className="card__subtitle">
                    {t('appointments.with', { name: a.practitioner.name })}
                    {a.practitioner.specialty ? `, ${a.practitioner.specialty}` : ''}
                  </p>
                ) : null}
                {a.establishment ? <p className="card__meta">{[a.establishment.name, a.establishment.city].filter(Boolean).join(', ')}</p> : null}
                {motive ? <p className="card__meta">{motive}</p> : null}
                <p className={`badge badge--${a.status}`}>{t(`appointments.status.${a.status}`, { defaultValue: a.status })}</p>
                {a.status === 'confirmed' ? (
                  <div className="card__actions">
                    {typeof a.motive === 'object' && a.motive?.teleconsult ? (
                      <Link className="button button--primary" to={`${paths.teleconsult}/${encodeURIComponent(a.id)}`}>
                        {t('appointments.joinVideo')}
                      </Link>
                    ) : null}
                    <a className="button button--secondary" href={buildUrl(`/appointments/${encodeURIComponent(a.id)}/ics`)} download>
                      {t('appointments.ics')}
                    </a>
                    <button type="button" className="button button--danger" onClick={() => askCancel(a)}>
                      {t('appointments.cancel')}
                    </button>
                  </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      <dialog ref={dialog} className="dialog" aria-labelledby="cancel-title" onClose={() => setConfirming(undefined)}>
        <h2 id="cancel-title">{confirming ? t('appointments.cancelConfirm', { when: formatLongDateTime(confirming.start, lang, zoneOf(confirming)) }) : ''}</h2>
        <div className="form__actions">
          <button type="button" className="button button--danger" onClick={() => void cancel()}>
            {t('appointments.cancelYes')}
          </button>
          <button type="button" className="button button--secondary" onClick={closeDialog}>
            {t('appointments.cancelNo')}
          </button>
        </div>
      </dialog>
    </Page>
  );
}
