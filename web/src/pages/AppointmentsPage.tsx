import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, buildUrl } from '../api/client';
import { endpoints, type Appointment } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { currentLanguage } from '../i18n';
import { DEFAULT_TIME_ZONE, formatDay, formatLongDateTime, formatTime } from '../i18n/format';
import { addDays, groupByDay, localDay } from '../i18n/days';
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
  const [moving, setMoving] = useState<Appointment | undefined>(undefined);
  const onWaitlist = async (a: Appointment) => {
    setActionError(undefined);
    try {
      if (!a.practitioner?.id || typeof a.motive !== 'object' || !a.motive.id) return;
      await endpoints.joinWaitlist({ practitionerId: a.practitioner.id, motiveId: a.motive.id, appointmentId: a.id });
      setMessage(t('appointments.waitlisted'));
      setWaitlistGeneration((g) => g + 1);
    } catch (error) {
      setActionError(error);
    }
  };
  const [waitlistGeneration, setWaitlistGeneration] = useState(0);
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
      {actionError ? <ChangeRefused error={actionError} /> : null}
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
                    <button type="button" className="button button--secondary" onClick={() => setMoving(a)}>
                      {t('appointments.reschedule')}
                    </button>
                    <button type="button" className="button button--ghost" onClick={() => void onWaitlist(a)}>
                      {t('appointments.earlier')}
                    </button>
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
      {moving ? (
        <Reschedule
          appointment={moving}
          onClose={() => setMoving(undefined)}
          onDone={(start) => {
            setMoving(undefined);
            setMessage(t('appointments.moved', { when: formatLongDateTime(start, lang, zoneOf(moving)) }));
            reload();
          }}
        />
      ) : null}
      <Waitlist key={waitlistGeneration} onAccepted={reload} />
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

function Reschedule({ appointment, onClose, onDone }: { appointment: Appointment; onClose: () => void; onDone: (start: string) => void }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const zone = zoneOf(appointment);
  const dialog = useRef<HTMLDialogElement>(null);
  const practitionerId = appointment.practitioner?.id ?? '';
  const motiveId = typeof appointment.motive === 'object' ? (appointment.motive.id ?? '') : '';
  const from = localDay(new Date(), zone);
  const [slots] = useLoad((signal) => endpoints.availability(practitionerId, motiveId, from, addDays(from, 14), signal), `move:${appointment.id}`);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const move = async (start: string) => {
    setError(undefined);
    try {
      await endpoints.rescheduleAppointment(appointment.id, start);
      dialog.current?.close();
      onDone(start);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <dialog ref={dialog} className="dialog dialog--wide" aria-labelledby="move-title" onClose={onClose} data-testid="reschedule-dialog">
      <h2 id="move-title">{t('appointments.rescheduleTitle', { when: formatLongDateTime(appointment.start, lang, zone) })}</h2>
      {error ? <ChangeRefused error={error} /> : null}
      {slots.state === 'loading' ? <p className="muted">{t('app.loading')}</p> : null}
      {slots.state === 'error' ? <ErrorNotice error={slots.error} /> : null}
      {slots.state === 'done' && slots.data.slots.length === 0 ? <p className="notice notice--info">{t('practitioner.noSlots', { count: 14 })}</p> : null}
      {slots.state === 'done' ? (
        <div className="days">
          {groupByDay(slots.data.slots, zone).map((d) => (
            <fieldset key={d.day} className="day">
              <legend className="day__title">{formatDay(d.day, lang)}</legend>
              <ul className="slot-buttons">
                {d.items.map((s) => (
                  <li key={s.start}>
                    <button type="button" className="button button--slot" onClick={() => void move(s.start)} aria-label={formatLongDateTime(s.start, lang, zone)}>
                      {formatTime(s.start, lang, zone)}
                    </button>
                  </li>
                ))}
              </ul>
            </fieldset>
          ))}
        </div>
      ) : null}
      <div className="form__actions">
        <button type="button" className="button button--secondary" onClick={() => dialog.current?.close()}>
          {t('appointments.keep')}
        </button>
      </div>
    </dialog>
  );
}

function Waitlist({ onAccepted }: { onAccepted: () => void }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const [list, reload] = useLoad(() => endpoints.myWaitlist(), 'me/waitlist');
  const [error, setError] = useState<unknown>(undefined);
  if (list.state !== 'done' || list.data.items.length === 0) return null;
  const act = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      reload();
      onAccepted();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="panel" aria-labelledby="waitlist-title" data-testid="waitlist">
      <h2 id="waitlist-title">{t('appointments.waitlistTitle')}</h2>
      {error ? <ErrorNotice error={error} /> : null}
      <ul className="plain-list">
        {list.data.items.map((w) => (
          <li key={w.id}>
            {w.offer ? (
              <>
                <p>{t('appointments.offer', { when: formatLongDateTime(w.offer.start, lang), until: formatTime(w.offer.expiresAt, lang) })}</p>
                <button type="button" className="button button--primary" onClick={() => void act(() => endpoints.acceptOffer(w.id))}>
                  {t('appointments.acceptOffer')}
                </button>{' '}
              </>
            ) : (
              <p>{t('appointments.waiting', { when: formatLongDateTime(w.wantedBefore, lang) })}</p>
            )}
            <button type="button" className="button button--ghost" onClick={() => void act(() => endpoints.leaveWaitlist(w.id))}>
              {t('appointments.leaveWaitlist')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A change refused by the API (403): past the cancellation cut-off, or the motive's rules. */
function ChangeRefused({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (error instanceof ApiError && error.code === 'forbidden') {
    return (
      <div className="notice notice--error" role="alert">
        <p>{t('appointments.tooLate')}</p>
      </div>
    );
  }
  return <ErrorNotice error={error} />;
}
