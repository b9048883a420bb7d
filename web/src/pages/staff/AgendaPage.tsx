// Day and week agenda of a practitioner, in the establishment's time zone, with cancellation,
// no-show, and booking for a patient found by exact search (records module).
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { paths } from '../../paths';
import { endpoints, type AgendaItem, type PatientHit, type StaffMotive } from '../../api/endpoints';
import { ApiError } from '../../api/client';
import { newIdempotencyKey } from '../../booking';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Page } from '../../components/Page';
import { currentLanguage } from '../../i18n';
import { addDays, groupByDay, localDay, mondayOf } from '../../i18n/days';
import { formatDay, formatLongDateTime, formatTime } from '../../i18n/format';
import { useLoad } from '../../useLoad';
import { useStaff } from '../StaffPage';

const MAX_PAGES = 6;

async function loadAgenda(eid: string, pid: string, from: string, to: string): Promise<AgendaItem[]> {
  const items: AgendaItem[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await endpoints.agenda(eid, pid, from, to, cursor);
    items.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return items;
}

export function usePractitionerChoice(): [string, (id: string) => void] {
  const { establishment } = useStaff();
  const initial = establishment.practitioners.find((p) => p.self)?.id ?? establishment.practitioners[0]?.id ?? '';
  return useState(initial);
}

export function PractitionerSelect({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  return (
    <div className="field">
      <label htmlFor="agenda-practitioner">{t('agenda.practitioner')}</label>
      <select id="agenda-practitioner" className="input" value={value} onChange={(e) => onChange(e.target.value)}>
        {establishment.practitioners.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </div>
  );
}

export function AgendaPage() {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const zone = establishment.timeZone;
  const [practitionerId, setPractitionerId] = usePractitionerChoice();
  const [view, setView] = useState<'day' | 'week'>('day');
  const [day, setDay] = useState(() => localDay(new Date(), zone));
  const from = view === 'day' ? day : mondayOf(day);
  const to = addDays(from, view === 'day' ? 1 : 7);
  const [agenda, reload] = useLoad(() => loadAgenda(establishment.id, practitionerId, from, to), `agenda:${establishment.id}:${practitionerId}:${from}:${to}`);
  const [motives] = useLoad(() => endpoints.motives(establishment.id, practitionerId), `motives:${practitionerId}`);
  const motiveLabel = (id: string) => (motives.state === 'done' ? motives.data.items.find((m) => m.id === id)?.label : undefined) ?? '';
  const isVideo = (id: string) => motives.state === 'done' && motives.data.items.some((m) => m.id === id && m.teleconsult);
  const [error, setError] = useState<unknown>(undefined);
  const [message, setMessage] = useState<string | undefined>(undefined);

  const act = async (action: () => Promise<unknown>, done: string) => {
    setError(undefined);
    setMessage(undefined);
    try {
      await action();
      setMessage(done);
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const step = view === 'day' ? 1 : 7;
  const days = agenda.state === 'done' ? groupByDay(agenda.data, zone) : [];

  return (
    <Page title={t('agenda.title')}>
      <div className="toolbar">
        <PractitionerSelect value={practitionerId} onChange={setPractitionerId} />
        <div className="field">
          <label htmlFor="agenda-day">{t('agenda.date')}</label>
          <input id="agenda-day" type="date" className="input" value={day} onChange={(e) => e.target.value && setDay(e.target.value)} />
        </div>
        <fieldset className="segmented">
          <legend>{t('agenda.view')}</legend>
          <label>
            <input type="radio" name="agenda-view" value="day" checked={view === 'day'} onChange={() => setView('day')} /> {t('agenda.day')}
          </label>
          <label>
            <input type="radio" name="agenda-view" value="week" checked={view === 'week'} onChange={() => setView('week')} /> {t('agenda.week')}
          </label>
        </fieldset>
        <div className="form__actions">
          <button type="button" className="button button--secondary" onClick={() => setDay(addDays(day, -step))} data-testid="agenda-previous">
            {view === 'day' ? t('agenda.previousDay') : t('agenda.previousWeek')}
          </button>
          <button type="button" className="button button--secondary" onClick={() => setDay(localDay(new Date(), zone))}>
            {t('agenda.today')}
          </button>
          <button type="button" className="button button--secondary" onClick={() => setDay(addDays(day, step))} data-testid="agenda-next">
            {view === 'day' ? t('agenda.nextDay') : t('agenda.nextWeek')}
          </button>
        </div>
      </div>
      <p className="muted" aria-live="polite" data-testid="agenda-range">
        {view === 'day' ? formatDay(from, lang, true) : t('agenda.weekOf', { day: formatDay(from, lang, true) })}
      </p>
      <div aria-live="polite">
        {message ? (
          <p className="notice notice--success" role="status">
            {message}
          </p>
        ) : null}
      </div>
      {error ? <ErrorNotice error={error} /> : null}
      <section aria-busy={agenda.state === 'loading'} data-testid="agenda">
        {agenda.state === 'loading' ? <p className="muted">{t('app.loading')}</p> : null}
        {agenda.state === 'error' ? <ErrorNotice error={agenda.error} /> : null}
        {agenda.state === 'done' && days.length === 0 ? <p className="notice notice--info">{t('agenda.empty')}</p> : null}
        {days.map((d) => (
          <div key={d.day} className="agenda-day">
            <h2 className="agenda-day__title">{formatDay(d.day, lang)}</h2>
            <ul className="agenda-list">
              {d.items.map((a) => (
                <li key={a.id} className={`agenda-item agenda-item--${a.status}`}>
                  <span className="agenda-item__time">
                    <time dateTime={a.start}>{formatTime(a.start, lang, zone)}</time>–<time dateTime={a.end}>{formatTime(a.end, lang, zone)}</time>
                  </span>
                  <span className="agenda-item__who">{a.patient.name}</span>
                  <span className="agenda-item__what">{motiveLabel(a.motiveId)}</span>
                  <span className={`badge badge--${a.status}`}>{t(`appointments.status.${a.status}`, { defaultValue: a.status })}</span>
                  {a.status === 'confirmed' ? (
                    <span className="agenda-item__actions">
                      {isVideo(a.motiveId) ? (
                        <Link className="button button--primary" to={`${paths.teleconsult}/${encodeURIComponent(a.id)}`} aria-label={t('agenda.joinVideoFor', { name: a.patient.name, when: formatLongDateTime(a.start, lang, zone) })}>
                          {t('appointments.joinVideo')}
                        </Link>
                      ) : null}
                      {new Date(a.start).getTime() < Date.now() ? (
                        <button type="button" className="button button--ghost" onClick={() => void act(() => endpoints.noShow(establishment.id, a.id), t('agenda.noShowDone'))}>
                          {t('agenda.noShow')}
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="button button--ghost"
                          aria-label={t('agenda.cancelFor', { name: a.patient.name, when: formatLongDateTime(a.start, lang, zone) })}
                          onClick={() => void act(() => endpoints.cancelAppointment(a.id), t('appointments.cancelled'))}
                        >
                          {t('agenda.cancel')}
                        </button>
                      )}
                    </span>
                  ) : null}
                </li>
              ))}
            </ul>
          </div>
        ))}
      </section>
      {motives.state === 'done' ? <BookForPatient practitionerId={practitionerId} motives={motives.data.items.filter((m) => m.active)} day={day} onBooked={reload} /> : null}
    </Page>
  );
}

function BookForPatient({ practitionerId, motives, day, onBooked }: { practitionerId: string; motives: StaffMotive[]; day: string; onBooked: () => void }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const zone = establishment.timeZone;
  const [lastName, setLastName] = useState('');
  const [birthDate, setBirthDate] = useState('');
  const [hits, setHits] = useState<PatientHit[] | undefined>(undefined);
  const [patient, setPatient] = useState<PatientHit | undefined>(undefined);
  const [motiveId, setMotiveId] = useState(motives[0]?.id ?? '');
  const [error, setError] = useState<unknown>(undefined);
  const [booked, setBooked] = useState<string | undefined>(undefined);
  const [slots] = useLoad(
    (signal) => (patient && motiveId ? endpoints.availability(practitionerId, motiveId, day, addDays(day, 7), signal) : Promise.resolve({ slots: [] })),
    `book-slots:${practitionerId}:${motiveId}:${day}:${patient?.id ?? ''}`,
  );

  const search = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setPatient(undefined);
    try {
      setHits((await endpoints.searchPatients(establishment.id, lastName, birthDate)).items);
    } catch (e) {
      setHits(undefined);
      setError(e);
    }
  };
  const book = async (start: string) => {
    if (!patient) return;
    setError(undefined);
    try {
      const result = await endpoints.book({ practitionerId, motiveId, start, patientId: patient.id }, newIdempotencyKey());
      setBooked(formatLongDateTime(result.start, lang, zone));
      onBooked();
    } catch (e) {
      setError(e);
    }
  };
  const unavailable = error instanceof ApiError && error.status === 404 && hits === undefined;

  return (
    <section className="panel" aria-labelledby="book-title" data-testid="book-for-patient">
      <h2 id="book-title">{t('agenda.bookTitle')}</h2>
      <form className="form form--row" onSubmit={(e) => void search(e)} role="search" aria-label={t('agenda.patientSearch')}>
        <div className="field">
          <label htmlFor="patient-last-name">{t('agenda.lastName')}</label>
          <input id="patient-last-name" className="input" autoComplete="off" required value={lastName} onChange={(e) => setLastName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="patient-birth-date">{t('agenda.birthDate')}</label>
          <input id="patient-birth-date" type="date" className="input" required value={birthDate} onChange={(e) => setBirthDate(e.target.value)} />
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--secondary">
            {t('agenda.findPatient')}
          </button>
        </div>
      </form>
      <p className="field__hint">{t('agenda.exactSearch')}</p>
      {unavailable ? <p className="notice notice--info">{t('agenda.recordsUnavailable')}</p> : error ? <ErrorNotice error={error} /> : null}
      {booked ? (
        <p className="notice notice--success" role="status">
          {t('agenda.bookedFor', { when: booked })}
        </p>
      ) : null}
      {hits && hits.length === 0 ? <p className="notice notice--info">{t('agenda.noPatient')}</p> : null}
      {hits && hits.length > 0 ? (
        <fieldset className="choices">
          <legend>{t('agenda.choosePatient')}</legend>
          {hits.map((h) => (
            <label key={h.id} className="choice">
              <input type="radio" name="patient" checked={patient?.id === h.id} onChange={() => setPatient(h)} /> {h.name} ({h.birthYear}
              {h.city ? `, ${h.city}` : ''})
            </label>
          ))}
        </fieldset>
      ) : null}
      {patient ? (
        <>
          <div className="field">
            <label htmlFor="book-motive">{t('practitioner.motive')}</label>
            <select id="book-motive" className="input" value={motiveId} onChange={(e) => setMotiveId(e.target.value)}>
              {motives.map((m) => (
                <option key={m.id} value={m.id}>
                  {t('practitioner.motiveOption', { label: m.label, minutes: m.durationMinutes })}
                </option>
              ))}
            </select>
          </div>
          {slots.state === 'done' ? (
            <div className="days">
              {groupByDay(slots.data.slots, zone).map((d) => (
                <fieldset key={d.day} className="day">
                  <legend className="day__title">{formatDay(d.day, lang)}</legend>
                  <ul className="slot-buttons">
                    {d.items.map((s) => (
                      <li key={s.start}>
                        <button type="button" className="button button--slot" onClick={() => void book(s.start)} aria-label={formatLongDateTime(s.start, lang, zone)}>
                          {formatTime(s.start, lang, zone)}
                        </button>
                      </li>
                    ))}
                  </ul>
                </fieldset>
              ))}
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
