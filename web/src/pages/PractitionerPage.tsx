// A practitioner's public profile, their next free slots per visit motive, and booking: a patient
// picks a slot, logs in or signs up if needed (the choice comes back through navigation state),
// and confirms. The API's answer is the truth: a slot taken meanwhile is 409 slot_taken.
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams } from 'react-router';
import { endpoints, type Booked, type PractitionerProfile, type Slot } from '../api/endpoints';
import { ApiError } from '../api/client';
import { newIdempotencyKey, readReturnState, type PendingBooking } from '../booking';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { currentLanguage } from '../i18n';
import { addDays, groupByDay, localDay } from '../i18n/days';
import { formatDay, formatLongDateTime, formatTime } from '../i18n/format';
import { useLoad } from '../useLoad';
import { useSession } from '../session';
import { paths } from '../paths';

const DAYS_SHOWN = 14;

export function PractitionerPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  const [profile] = useLoad((signal) => endpoints.practitioner(id, signal), `practitioner:${id}`);
  return (
    <Page title={profile.state === 'done' ? profile.data.name : t('practitioner.title')}>
      {profile.state === 'loading' ? <p className="muted">{t('app.loading')}</p> : null}
      {profile.state === 'error' ? <ErrorNotice error={profile.error} /> : null}
      {profile.state === 'done' ? <Profile profile={profile.data} /> : null}
    </Page>
  );
}

function Profile({ profile }: { profile: PractitionerProfile }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const location = useLocation();
  const resume = readReturnState({ from: '/', ...(location.state as object | null) })?.resume;
  const initial = resume && resume.practitionerId === profile.id ? resume : undefined;
  const [establishmentId, setEstablishmentId] = useState(initial?.establishmentId ?? profile.establishments[0]?.id ?? '');
  const establishment = profile.establishments.find((e) => e.id === establishmentId) ?? profile.establishments[0];
  const [motiveId, setMotiveId] = useState(initial?.motiveId ?? establishment?.motives[0]?.id ?? '');
  const motive = establishment?.motives.find((m) => m.id === motiveId);
  const [chosen, setChosen] = useState<string | undefined>(initial?.start);

  return (
    <>
      <p className="lead" data-testid="practitioner-specialty">
        {lang === 'en' ? profile.specialty.labelEn : profile.specialty.label}
        {profile.teleconsult ? ` · ${t('practitioner.teleconsult')}` : ''}
      </p>
      <p className="muted">{t('practitioner.languages', { list: profile.languages.map((l) => l.toUpperCase()).join(', ') })}</p>
      {profile.establishments.length > 1 ? (
        <div className="field">
          <label htmlFor="booking-place">{t('practitioner.place')}</label>
          <select
            id="booking-place"
            className="input"
            value={establishmentId}
            onChange={(e) => {
              setEstablishmentId(e.target.value);
              setMotiveId(profile.establishments.find((x) => x.id === e.target.value)?.motives[0]?.id ?? '');
              setChosen(undefined);
            }}
          >
            {profile.establishments.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name}, {e.city}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      {establishment ? (
        <section className="panel" aria-labelledby="place-title">
          <h2 id="place-title">{establishment.name}</h2>
          <p className="card__meta">
            {establishment.addressLine}, {establishment.postalCode} {establishment.city}
          </p>
          {establishment.motives.length === 0 ? (
            <p className="notice notice--info">{t('practitioner.noMotive')}</p>
          ) : (
            <div className="field">
              <label htmlFor="booking-motive">{t('practitioner.motive')}</label>
              <select
                id="booking-motive"
                className="input"
                value={motiveId}
                onChange={(e) => {
                  setMotiveId(e.target.value);
                  setChosen(undefined);
                }}
              >
                {establishment.motives.map((m) => (
                  <option key={m.id} value={m.id}>
                    {t('practitioner.motiveOption', { label: m.label, minutes: m.durationMinutes })}
                    {m.teleconsult ? ` — ${t('practitioner.video')}` : ''}
                  </option>
                ))}
              </select>
            </div>
          )}
        </section>
      ) : null}
      {establishment && motive ? (
        <Slots
          key={`${establishment.id}:${motive.id}`}
          practitionerId={profile.id}
          establishmentId={establishment.id}
          motiveId={motive.id}
          timeZone={establishment.timeZone}
          chosen={chosen}
          onChoose={setChosen}
        />
      ) : null}
    </>
  );
}

function Slots(props: { practitionerId: string; establishmentId: string; motiveId: string; timeZone: string; chosen: string | undefined; onChoose: (start: string | undefined) => void }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { practitionerId, motiveId, timeZone, chosen, onChoose } = props;
  const from = useMemo(() => localDay(new Date(), timeZone), [timeZone]);
  const [slots, reload] = useLoad((signal) => endpoints.availability(practitionerId, motiveId, from, addDays(from, DAYS_SHOWN), signal), `slots:${practitionerId}:${motiveId}:${from}`);
  const days = slots.state === 'done' ? groupByDay<Slot>(slots.data.slots, timeZone) : [];

  return (
    <section aria-labelledby="slots-title" data-testid="slots">
      <h2 id="slots-title">{t('practitioner.slotsTitle')}</h2>
      {slots.state === 'loading' ? <p className="muted">{t('app.loading')}</p> : null}
      {slots.state === 'error' ? <ErrorNotice error={slots.error} /> : null}
      {slots.state === 'done' && days.length === 0 ? <p className="notice notice--info">{t('practitioner.noSlots', { count: DAYS_SHOWN })}</p> : null}
      {chosen ? (
        <Confirm pending={{ practitionerId, establishmentId: props.establishmentId, motiveId, start: chosen }} timeZone={timeZone} onCancel={() => onChoose(undefined)} onTaken={reload} />
      ) : (
        <div className="days">
          {days.map((d) => (
            <fieldset key={d.day} className="day">
              <legend className="day__title">{formatDay(d.day, lang)}</legend>
              <ul className="slot-buttons">
                {d.items.map((s) => (
                  <li key={s.start}>
                    <button type="button" className="button button--slot" onClick={() => onChoose(s.start)} aria-label={formatLongDateTime(s.start, lang, timeZone)}>
                      {formatTime(s.start, lang, timeZone)}
                    </button>
                  </li>
                ))}
              </ul>
            </fieldset>
          ))}
        </div>
      )}
    </section>
  );
}

function Confirm({ pending, timeZone, onCancel, onTaken }: { pending: PendingBooking; timeZone: string; onCancel: () => void; onTaken: () => void }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { session } = useSession();
  const location = useLocation();
  const key = useRef(newIdempotencyKey());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [booked, setBooked] = useState<Booked | undefined>(undefined);
  const [waitlisted, setWaitlisted] = useState(false);
  const when = formatLongDateTime(pending.start, lang, timeZone);
  const back = { from: location.pathname, resume: pending };

  const book = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setBooked(await endpoints.book({ practitionerId: pending.practitionerId, motiveId: pending.motiveId, start: pending.start }, key.current));
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.code === 'slot_taken') onTaken();
    } finally {
      setBusy(false);
    }
  };
  const joinWaitlist = async () => {
    setError(undefined);
    try {
      await endpoints.joinWaitlist({ practitionerId: pending.practitionerId, motiveId: pending.motiveId, ...(booked ? { appointmentId: booked.id } : {}) });
      setWaitlisted(true);
    } catch (e) {
      setError(e);
    }
  };

  if (booked) {
    return (
      <div className="notice notice--success" role="status" data-testid="booked">
        <p>{t('practitioner.booked', { when: formatLongDateTime(booked.start, lang, timeZone) })}</p>
        <p>
          <Link to={paths.appointments}>{t('practitioner.seeAppointments')}</Link>
        </p>
        {waitlisted ? (
          <p>{t('practitioner.waitlisted')}</p>
        ) : (
          <p>
            <button type="button" className="button button--secondary" onClick={() => void joinWaitlist()}>
              {t('practitioner.waitlistEarlier')}
            </button>
          </p>
        )}
        {error ? <ErrorNotice error={error} /> : null}
      </div>
    );
  }
  return (
    <div className="panel" data-testid="booking-confirm">
      <h3>{t('practitioner.confirmTitle', { when })}</h3>
      {error ? <ErrorNotice error={error} /> : null}
      {session.status === 'authenticated' ? (
        <div className="form__actions">
          <button type="button" className="button button--primary" disabled={busy} onClick={() => void book()}>
            {t('practitioner.confirm')}
          </button>
          <button type="button" className="button button--secondary" onClick={onCancel}>
            {t('practitioner.otherSlot')}
          </button>
        </div>
      ) : (
        <>
          <p>{t('practitioner.loginToBook')}</p>
          <div className="form__actions">
            <Link className="button button--primary" to={paths.login} state={back} data-testid="login-to-book">
              {t('practitioner.login')}
            </Link>
            <Link className="button button--secondary" to={paths.signup} state={back}>
              {t('practitioner.signup')}
            </Link>
            <button type="button" className="button button--ghost" onClick={onCancel}>
              {t('practitioner.otherSlot')}
            </button>
          </div>
        </>
      )}
    </div>
  );
}
