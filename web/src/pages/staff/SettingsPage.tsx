// Agenda settings of a practitioner: weekly opening hours (local time of the establishment),
// visit motives, absences. A practitioner edits their own; secretaries and admins any of the
// establishment's (the API decides).
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { endpoints, type Weekday, type WeeklyHours } from '../../api/endpoints';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Page } from '../../components/Page';
import { currentLanguage } from '../../i18n';
import { zonedToInstant } from '../../i18n/days';
import { formatDateTime } from '../../i18n/format';
import { useLoad } from '../../useLoad';
import { useStaff } from '../StaffPage';
import { PractitionerSelect, usePractitionerChoice } from './AgendaPage';
import { hoursToText, textToHours } from './hours';

const WEEKDAYS: Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
export function SettingsPage() {
  const { t } = useTranslation();
  const { role, establishment } = useStaff();
  const [practitionerId, setPractitionerId] = usePractitionerChoice();
  const own = establishment.practitioners.find((p) => p.self);
  return (
    <Page title={t('settings.title')}>
      {role === 'practitioner' && own ? <p className="lead">{own.name}</p> : <PractitionerSelect value={practitionerId} onChange={setPractitionerId} />}
      <Hours key={`h${practitionerId}`} practitionerId={practitionerId} />
      <Motives key={`m${practitionerId}`} practitionerId={practitionerId} />
      <Absences key={`a${practitionerId}`} practitionerId={practitionerId} />
    </Page>
  );
}

function Hours({ practitionerId }: { practitionerId: string }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [schedule] = useLoad(() => endpoints.schedule(establishment.id, practitionerId), `schedule:${practitionerId}`);
  return (
    <section className="panel" aria-labelledby="hours-title" data-testid="opening-hours">
      <h2 id="hours-title">{t('settings.hours')}</h2>
      <p className="field__hint">{t('settings.hoursHint', { zone: establishment.timeZone })}</p>
      {schedule.state === 'error' ? <ErrorNotice error={schedule.error} /> : null}
      {schedule.state === 'done' ? <HoursForm practitionerId={practitionerId} initial={schedule.data.weeklyHours} initialPublished={schedule.data.published} /> : null}
    </section>
  );
}

function HoursForm({ practitionerId, initial, initialPublished }: { practitionerId: string; initial: WeeklyHours; initialPublished: boolean }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [text, setText] = useState(() => Object.fromEntries(WEEKDAYS.map((d) => [d, hoursToText(initial[d])])) as Record<Weekday, string>);
  const [published, setPublished] = useState(initialPublished);
  const [error, setError] = useState<unknown>(undefined);
  const [invalid, setInvalid] = useState<Weekday[]>([]);
  const [saved, setSaved] = useState(false);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    setError(undefined);
    const bad = WEEKDAYS.filter((d) => textToHours(text[d]) === undefined);
    setInvalid(bad);
    if (bad.length > 0) return;
    const weeklyHours: WeeklyHours = Object.fromEntries(WEEKDAYS.map((d) => [d, textToHours(text[d]) ?? []]));
    try {
      await endpoints.saveSchedule(establishment.id, practitionerId, weeklyHours, published);
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <>
      {text ? (
        <form className="form" onSubmit={(e) => void save(e)}>
          <div className="hours-grid">
            {WEEKDAYS.map((d) => (
              <div className="field" key={d}>
                <label htmlFor={`hours-${d}`}>{t(`settings.days.${d}`)}</label>
                <input
                  id={`hours-${d}`}
                  className="input"
                  value={text[d]}
                  placeholder="09:00-12:00, 14:00-18:00"
                  aria-invalid={invalid.includes(d)}
                  aria-describedby={invalid.includes(d) ? `hours-${d}-error` : undefined}
                  onChange={(e) => setText({ ...text, [d]: e.target.value })}
                />
                {invalid.includes(d) ? (
                  <p className="field__error" id={`hours-${d}-error`}>
                    {t('settings.hoursInvalid')}
                  </p>
                ) : null}
              </div>
            ))}
          </div>
          <div className="field field--check">
            <input id="hours-published" type="checkbox" checked={published} onChange={(e) => setPublished(e.target.checked)} />
            <label htmlFor="hours-published">{t('settings.published')}</label>
          </div>
          {error ? <ErrorNotice error={error} /> : null}
          {saved ? (
            <p className="notice notice--success" role="status">
              {t('settings.saved')}
            </p>
          ) : null}
          <div className="form__actions">
            <button type="submit" className="button button--primary">
              {t('settings.saveHours')}
            </button>
          </div>
        </form>
      ) : null}
    </>
  );
}

function Motives({ practitionerId }: { practitionerId: string }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [list, reload] = useLoad(() => endpoints.motives(establishment.id, practitionerId), `motives-settings:${practitionerId}`);
  const [label, setLabel] = useState('');
  const [duration, setDuration] = useState('20');
  const [teleconsult, setTeleconsult] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  const run = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const add = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await endpoints.createMotive(establishment.id, practitionerId, { label, durationMinutes: Number(duration), teleconsult });
      setLabel('');
    });
  };
  return (
    <section className="panel" aria-labelledby="motives-title" data-testid="motives">
      <h2 id="motives-title">{t('settings.motives')}</h2>
      {error ? <ErrorNotice error={error} /> : null}
      {list.state === 'error' ? <ErrorNotice error={list.error} /> : null}
      {list.state === 'done' ? (
        <ul className="plain-list">
          {list.data.items
            .filter((m) => m.active)
            .map((m) => (
              <li key={m.id} className="row">
                <span>
                  {t('practitioner.motiveOption', { label: m.label, minutes: m.durationMinutes })}
                  {m.teleconsult ? ` — ${t('practitioner.video')}` : ''}
                </span>
                <button type="button" className="button button--ghost" aria-label={t('settings.withdrawMotive', { label: m.label })} onClick={() => void run(() => endpoints.withdrawMotive(establishment.id, m.id))}>
                  {t('settings.withdraw')}
                </button>
              </li>
            ))}
        </ul>
      ) : null}
      <form className="form form--row" onSubmit={add}>
        <div className="field">
          <label htmlFor="motive-label">{t('settings.motiveLabel')}</label>
          <input id="motive-label" className="input" required maxLength={120} value={label} onChange={(e) => setLabel(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="motive-duration">{t('settings.duration')}</label>
          <input id="motive-duration" type="number" min={5} max={480} step={5} className="input" required value={duration} onChange={(e) => setDuration(e.target.value)} />
        </div>
        <div className="field field--check">
          <input id="motive-teleconsult" type="checkbox" checked={teleconsult} onChange={(e) => setTeleconsult(e.target.checked)} />
          <label htmlFor="motive-teleconsult">{t('practitioner.video')}</label>
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--secondary">
            {t('settings.addMotive')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Absences({ practitionerId }: { practitionerId: string }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment } = useStaff();
  const zone = establishment.timeZone;
  const [list, reload] = useLoad(() => endpoints.absences(establishment.id, practitionerId), `absences:${practitionerId}`);
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const run = async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const add = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await endpoints.addAbsence(establishment.id, practitionerId, zonedToInstant(start, zone), zonedToInstant(end, zone));
      setStart('');
      setEnd('');
    });
  };
  return (
    <section className="panel" aria-labelledby="absences-title" data-testid="absences">
      <h2 id="absences-title">{t('settings.absences')}</h2>
      {error ? <ErrorNotice error={error} /> : null}
      {list.state === 'error' ? <ErrorNotice error={list.error} /> : null}
      {list.state === 'done' && list.data.items.length === 0 ? <p className="muted">{t('settings.noAbsence')}</p> : null}
      {list.state === 'done' ? (
        <ul className="plain-list">
          {list.data.items.map((a) => (
            <li key={a.id} className="row">
              <span>{t('settings.absenceRange', { from: formatDateTime(a.start, lang, zone), to: formatDateTime(a.end, lang, zone) })}</span>
              <button type="button" className="button button--ghost" onClick={() => void run(() => endpoints.removeAbsence(establishment.id, a.id))}>
                {t('settings.remove')}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <form className="form form--row" onSubmit={add}>
        <div className="field">
          <label htmlFor="absence-start">{t('settings.from')}</label>
          <input id="absence-start" type="datetime-local" className="input" required value={start} onChange={(e) => setStart(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="absence-end">{t('settings.to')}</label>
          <input id="absence-end" type="datetime-local" className="input" required value={end} onChange={(e) => setEnd(e.target.value)} />
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--secondary">
            {t('settings.addAbsence')}
          </button>
        </div>
      </form>
    </section>
  );
}
