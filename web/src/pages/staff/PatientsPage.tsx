// Patient files (records module, API.md "Patient records"): exact search, the administrative file
// with the sections the role may see, clinical entries for practitioners (note, prescription with
// its PDF, certificate, death certificate, genetic result: EntryForms.tsx), and break-the-glass with a written reason when there is no care
// relationship. The patient chosen stays in component state: never in the URL.
import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, buildUrl } from '../../api/client';
import { endpoints, type ClinicalEntry, type EntryKind, type PatientHit } from '../../api/endpoints';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Page } from '../../components/Page';
import { currentLanguage } from '../../i18n';
import { formatDateTime } from '../../i18n/format';
import { useLoad } from '../../useLoad';
import { useStaff } from '../StaffPage';
import { DeathFields, deathBody, emptyDeath, emptyGenetic, EntryDetails, GeneticFields, geneticBody } from './EntryForms';

export function PatientsPage() {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [lastName, setLastName] = useState('');
  const [birthDate, setBirthDate] = useState('');
  const [hits, setHits] = useState<PatientHit[] | undefined>(undefined);
  const [chosen, setChosen] = useState<PatientHit | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  const search = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setChosen(undefined);
    try {
      setHits((await endpoints.searchPatients(establishment.id, lastName, birthDate)).items);
    } catch (e) {
      setHits(undefined);
      setError(e);
    }
  };
  const unavailable = error instanceof ApiError && error.status === 404;

  return (
    <Page title={t('patients.title')}>
      <form className="form form--row panel" onSubmit={(e) => void search(e)} role="search" aria-label={t('agenda.patientSearch')}>
        <div className="field">
          <label htmlFor="records-last-name">{t('agenda.lastName')}</label>
          <input id="records-last-name" className="input" autoComplete="off" required value={lastName} onChange={(e) => setLastName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="records-birth-date">{t('agenda.birthDate')}</label>
          <input id="records-birth-date" type="date" className="input" required value={birthDate} onChange={(e) => setBirthDate(e.target.value)} />
        </div>
        <div className="form__actions">
          <button type="submit" className="button button--primary">
            {t('agenda.findPatient')}
          </button>
        </div>
      </form>
      <p className="field__hint">{t('agenda.exactSearch')}</p>
      {unavailable ? <p className="notice notice--info">{t('agenda.recordsUnavailable')}</p> : error ? <ErrorNotice error={error} /> : null}
      {hits && hits.length === 0 ? <p className="notice notice--info">{t('agenda.noPatient')}</p> : null}
      {hits && hits.length > 0 ? (
        <ul className="plain-list" data-testid="patient-hits">
          {hits.map((h) => (
            <li key={h.id}>
              <button type="button" className="button button--link" aria-pressed={chosen?.id === h.id} onClick={() => setChosen(h)}>
                {h.name} ({h.birthYear}
                {h.city ? `, ${h.city}` : ''})
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {chosen ? <PatientFileView key={chosen.id} patientId={chosen.id} /> : null}
    </Page>
  );
}

function PatientFileView({ patientId }: { patientId: string }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const [file] = useLoad(() => endpoints.patient(establishment.id, patientId), `patient:${patientId}`);
  return (
    <section className="panel" aria-labelledby="file-title" data-testid="patient-file">
      <h2 id="file-title">{t('patients.file')}</h2>
      {file.state === 'loading' ? <p className="muted">{t('app.loading')}</p> : null}
      {file.state === 'error' ? <ErrorNotice error={file.error} /> : null}
      {file.state === 'done' ? (
        <dl className="facts">
          {file.data.identity ? (
            <>
              <dt>{t('patients.name')}</dt>
              <dd>
                {file.data.identity.firstNames} {file.data.identity.usedName ?? file.data.identity.birthName}
                {file.data.identity.usedName ? ` (${t('patients.born', { name: file.data.identity.birthName })})` : ''}
              </dd>
              <dt>{t('agenda.birthDate')}</dt>
              <dd>{file.data.identity.birthDate}</dd>
              <dt>{t('patients.ins')}</dt>
              <dd>{file.data.identity.ins ?? '—'}</dd>
            </>
          ) : null}
          {file.data.contact ? (
            <>
              <dt>{t('patients.contact')}</dt>
              <dd>{[file.data.contact.phone, file.data.contact.email, file.data.contact.address ? `${file.data.contact.address.line1}, ${file.data.contact.address.postalCode} ${file.data.contact.address.city}` : null].filter(Boolean).join(' · ') || '—'}</dd>
            </>
          ) : null}
          {file.data.insurance ? (
            <>
              <dt>{t('patients.insurance')}</dt>
              <dd>
                {[file.data.insurance.base ? `${file.data.insurance.base.scheme} ${file.data.insurance.base.memberNumber}` : null, file.data.insurance.complementary ? `${file.data.insurance.complementary.insurer} ${file.data.insurance.complementary.memberNumber}` : null]
                  .filter(Boolean)
                  .join(' · ') || '—'}
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}
      <Entries patientId={patientId} />
    </section>
  );
}

function Entries({ patientId }: { patientId: string }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const { establishment, role } = useStaff();
  const [entries, reload] = useLoad(() => endpoints.entries(establishment.id, patientId), `entries:${patientId}`);
  const refused = entries.state === 'error' && entries.error instanceof ApiError && (entries.error.code === 'forbidden' || entries.error.code === 'not_found');
  return (
    <div className="entries" data-testid="entries">
      <h3>{t('patients.entries')}</h3>
      {entries.state === 'loading' ? <p className="muted">{t('app.loading')}</p> : null}
      {refused ? (
        <div className="notice notice--info" data-testid="entries-refused">
          <p>{role === 'practitioner' ? t('patients.noRelationship') : t('patients.entriesForPractitioners')}</p>
          {role === 'practitioner' ? <BreakGlass patientId={patientId} onOpened={reload} /> : null}
        </div>
      ) : entries.state === 'error' ? (
        <ErrorNotice error={entries.error} />
      ) : null}
      {entries.state === 'done' ? (
        <>
          {entries.data.items.length === 0 ? <p className="muted">{t('patients.noEntry')}</p> : null}
          <ul className="cards">
            {entries.data.items.map((e) => (
              <EntryCard key={e.id} entry={e} patientId={patientId} lang={lang} />
            ))}
          </ul>
          {role === 'practitioner' ? <NewEntry patientId={patientId} onSaved={reload} /> : null}
        </>
      ) : null}
    </div>
  );
}

function EntryCard({ entry, patientId, lang }: { entry: ClinicalEntry; patientId: string; lang: 'fr' | 'en' }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const c = entry.content;
  const text = typeof c['text'] === 'string' ? c['text'] : undefined;
  const title = typeof c['title'] === 'string' ? c['title'] : undefined;
  const lines = Array.isArray(c['lines']) ? (c['lines'] as Array<{ medication?: string; dose?: string; frequency?: string; duration?: string }>) : [];
  const printable = entry.kind === 'prescription' || entry.kind === 'certificate' || entry.kind === 'death_certificate';
  return (
    <li className="card">
      <h4 className="card__title">
        {t(`patients.kinds.${entry.kind}`)} — <time dateTime={entry.createdAt}>{formatDateTime(entry.createdAt, lang, establishment.timeZone)}</time>
      </h4>
      {title ? <p className="card__subtitle">{title}</p> : null}
      {text ? <p className="entry-text">{text}</p> : null}
      <EntryDetails entry={entry} />
      {lines.length > 0 ? (
        <ul>
          {lines.map((l, i) => (
            <li key={i}>{[l.medication, l.dose, l.frequency, l.duration].filter(Boolean).join(' — ')}</li>
          ))}
        </ul>
      ) : null}
      {printable ? (
        <a className="button button--secondary" href={buildUrl(`/establishments/${encodeURIComponent(establishment.id)}/patients/${encodeURIComponent(patientId)}/entries/${encodeURIComponent(entry.id)}/pdf`)} download>
          {t('patients.pdf')}
        </a>
      ) : null}
    </li>
  );
}

function NewEntry({ patientId, onSaved }: { patientId: string; onSaved: () => void }) {
  const { t } = useTranslation();
  const { establishment, user } = useStaff();
  const [kind, setKind] = useState<EntryKind>('note');
  const [death, setDeath] = useState(emptyDeath);
  const [genetic, setGenetic] = useState(emptyGenetic);
  const [f, setF] = useState({ title: '', text: '', medication: '', dose: '', frequency: '', duration: '', quantity: '', renewals: '0' });
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    const content =
      kind === 'note'
        ? { ...(f.title ? { title: f.title } : {}), text: f.text }
        : kind === 'certificate'
          ? { title: f.title, text: f.text }
          : { lines: [{ medication: f.medication, dose: f.dose, frequency: f.frequency, duration: f.duration, quantity: f.quantity, renewals: Number(f.renewals) }], ...(f.text ? { notes: f.text } : {}) };
    const body = kind === 'death_certificate' ? deathBody(death) : kind === 'genetic_result' ? geneticBody(genetic, user.id) : { kind, content };
    try {
      await endpoints.addEntry(establishment.id, patientId, body);
      setSaved(true);
      setF({ title: '', text: '', medication: '', dose: '', frequency: '', duration: '', quantity: '', renewals: '0' });
      setDeath(emptyDeath());
      setGenetic(emptyGenetic());
      onSaved();
    } catch (e) {
      setError(e);
    }
  };
  const field = (k: keyof typeof f, label: string, required = true) => (
    <div className="field">
      <label htmlFor={`entry-${k}`}>{label}</label>
      <input id={`entry-${k}`} className="input" required={required} value={f[k]} onChange={set(k)} />
    </div>
  );
  return (
    <form className="form panel" onSubmit={(e) => void submit(e)} data-testid="new-entry">
      <h4>{t('patients.newEntry')}</h4>
      <div className="field">
        <label htmlFor="entry-kind">{t('patients.kind')}</label>
        <select id="entry-kind" className="input" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
          <option value="note">{t('patients.kinds.note')}</option>
          <option value="prescription">{t('patients.kinds.prescription')}</option>
          <option value="certificate">{t('patients.kinds.certificate')}</option>
          <option value="death_certificate">{t('patients.kinds.death_certificate')}</option>
          <option value="genetic_result">{t('patients.kinds.genetic_result')}</option>
        </select>
      </div>
      {kind === 'death_certificate' ? <DeathFields f={death} set={setDeath} /> : null}
      {kind === 'genetic_result' ? <GeneticFields f={genetic} set={setGenetic} /> : null}
      {kind === 'death_certificate' || kind === 'genetic_result' ? null : kind === 'prescription' ? (
        <>
          {field('medication', t('patients.medication'))}
          {field('dose', t('patients.dose'))}
          {field('frequency', t('patients.frequency'))}
          {field('duration', t('patients.duration'))}
          {field('quantity', t('patients.quantity'))}
          <div className="field">
            <label htmlFor="entry-renewals">{t('patients.renewals')}</label>
            <input id="entry-renewals" type="number" min={0} max={12} className="input" value={f.renewals} onChange={set('renewals')} />
          </div>
        </>
      ) : (
        field('title', t('patients.entryTitle'), kind === 'certificate')
      )}
      {kind === 'death_certificate' || kind === 'genetic_result' ? null : (
        <div className="field">
          <label htmlFor="entry-text">{kind === 'prescription' ? t('patients.notes') : t('patients.text')}</label>
          <textarea id="entry-text" className="input" rows={5} required={kind !== 'prescription'} value={f.text} onChange={set('text')} />
        </div>
      )}
      {error ? <ErrorNotice error={error} /> : null}
      {saved ? (
        <p className="notice notice--success" role="status">
          {t('patients.saved')}
        </p>
      ) : null}
      <div className="form__actions">
        <button type="submit" className="button button--primary">
          {t('patients.save')}
        </button>
      </div>
    </form>
  );
}

function BreakGlass({ patientId, onOpened }: { patientId: string; onOpened: () => void }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await endpoints.breakGlass(establishment.id, patientId, reason);
      dialog.current?.close();
      onOpened();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <button type="button" className="button button--danger" onClick={() => dialog.current?.showModal()}>
        {t('patients.breakGlass')}
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby="bg-title" aria-describedby="bg-intro">
        <form className="form" onSubmit={(e) => void submit(e)}>
          <h2 id="bg-title">{t('patients.breakGlass')}</h2>
          <p id="bg-intro">{t('patients.breakGlassIntro')}</p>
          {error ? <ErrorNotice error={error} /> : null}
          <div className="field">
            <label htmlFor="bg-reason">{t('patients.reason')}</label>
            <textarea id="bg-reason" className="input" rows={3} required minLength={10} value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
          <div className="form__actions">
            <button type="submit" className="button button--danger">
              {t('patients.breakGlassConfirm')}
            </button>
            <button type="button" className="button button--secondary" onClick={() => dialog.current?.close()}>
              {t('stepUp.cancel')}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
