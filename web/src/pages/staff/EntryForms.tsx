// The two entry kinds with more structure than a note: the death certificate (an administrative
// part for the town hall, and the causes of death under medical confidentiality: never in the PDF
// nor in the patient's export) and the genetic result (readable only by the practitioners named
// on it, the author always among them; break-the-glass does not open it). Fields and body
// builders for NewEntry (PatientsPage.tsx); the API's schemas are records/entry-schemas.ts.
import { useTranslation } from 'react-i18next';
import type { ClinicalEntry } from '../../api/endpoints';
import { useStaff } from '../StaffPage';

export const DEATH_PLACES = ['home', 'health_establishment', 'nursing_home', 'public_place', 'other'] as const;

export interface DeathForm {
  deathDate: string;
  deathTime: string;
  place: (typeof DEATH_PLACES)[number];
  municipality: string;
  forensicObstacle: boolean;
  immediateCause: string;
  underlyingCauses: string;
  otherConditions: string;
}
export const emptyDeath = (): DeathForm => ({ deathDate: '', deathTime: '', place: 'health_establishment', municipality: '', forensicObstacle: false, immediateCause: '', underlyingCauses: '', otherConditions: '' });

export interface GeneticForm {
  test: string;
  gene: string;
  result: string;
  interpretation: string;
  /** Account ids of the other practitioners named (the author is always named). */
  named: string[];
}
export const emptyGenetic = (): GeneticForm => ({ test: '', gene: '', result: '', interpretation: '', named: [] });

/** One cause per line, at most four (the form's chain of causes). */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(0, 4);

export function deathBody(f: DeathForm) {
  const other = lines(f.otherConditions);
  return {
    kind: 'death_certificate' as const,
    content: { deathDate: f.deathDate, deathTime: f.deathTime, place: f.place, municipality: f.municipality.trim(), forensicObstacle: f.forensicObstacle },
    causes: { immediateCause: f.immediateCause.trim(), underlyingCauses: lines(f.underlyingCauses), ...(other.length > 0 ? { otherConditions: other } : {}) },
  };
}

export function geneticBody(f: GeneticForm, selfUserId: string) {
  return {
    kind: 'genetic_result' as const,
    content: { test: f.test.trim(), ...(f.gene.trim() ? { gene: f.gene.trim() } : {}), result: f.result.trim(), interpretation: f.interpretation.trim() },
    namedPractitionerUserIds: [selfUserId, ...f.named.filter((id) => id !== selfUserId)],
  };
}

export function DeathFields({ f, set }: { f: DeathForm; set: (f: DeathForm) => void }) {
  const { t } = useTranslation();
  const text = (k: 'municipality' | 'deathDate' | 'deathTime', type = 'text') => (
    <div className="field">
      <label htmlFor={`death-${k}`}>{t(`patients.death.${k}`)}</label>
      <input id={`death-${k}`} type={type} className="input" required value={f[k]} onChange={(e) => set({ ...f, [k]: e.target.value })} />
    </div>
  );
  return (
    <>
      <fieldset className="choices">
        <legend>{t('patients.death.administrative')}</legend>
        <div className="form--row">
          {text('deathDate', 'date')}
          {text('deathTime', 'time')}
        </div>
        <div className="field">
          <label htmlFor="death-place">{t('patients.death.place')}</label>
          <select id="death-place" className="input" value={f.place} onChange={(e) => set({ ...f, place: e.target.value as DeathForm['place'] })}>
            {DEATH_PLACES.map((p) => (
              <option key={p} value={p}>
                {t(`patients.death.places.${p}`)}
              </option>
            ))}
          </select>
        </div>
        {text('municipality')}
        <label className="choice">
          <input id="death-forensic" type="checkbox" checked={f.forensicObstacle} onChange={(e) => set({ ...f, forensicObstacle: e.target.checked })} /> {t('patients.death.forensicObstacle')}
        </label>
      </fieldset>
      <fieldset className="choices choices--confidential" aria-describedby="death-confidential-hint">
        <legend>{t('patients.death.medical')}</legend>
        <p id="death-confidential-hint" className="field__hint">
          {t('patients.death.confidential')}
        </p>
        <div className="field">
          <label htmlFor="death-immediate">{t('patients.death.immediateCause')}</label>
          <textarea id="death-immediate" className="input" rows={2} required value={f.immediateCause} onChange={(e) => set({ ...f, immediateCause: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="death-underlying">{t('patients.death.underlyingCauses')}</label>
          <textarea id="death-underlying" className="input" rows={3} value={f.underlyingCauses} onChange={(e) => set({ ...f, underlyingCauses: e.target.value })} aria-describedby="death-lines-hint" />
        </div>
        <div className="field">
          <label htmlFor="death-other">{t('patients.death.otherConditions')}</label>
          <textarea id="death-other" className="input" rows={2} value={f.otherConditions} onChange={(e) => set({ ...f, otherConditions: e.target.value })} aria-describedby="death-lines-hint" />
        </div>
        <p id="death-lines-hint" className="field__hint">
          {t('patients.death.linesHint')}
        </p>
      </fieldset>
    </>
  );
}

export function GeneticFields({ f, set }: { f: GeneticForm; set: (f: GeneticForm) => void }) {
  const { t } = useTranslation();
  const { establishment, user } = useStaff();
  const others = establishment.practitioners.filter((p) => p.userId && p.userId !== user.id);
  const field = (k: 'test' | 'gene', required: boolean) => (
    <div className="field">
      <label htmlFor={`genetic-${k}`}>{t(`patients.genetic.${k}`)}</label>
      <input id={`genetic-${k}`} className="input" required={required} value={f[k]} onChange={(e) => set({ ...f, [k]: e.target.value })} />
    </div>
  );
  const area = (k: 'result' | 'interpretation', rows: number) => (
    <div className="field">
      <label htmlFor={`genetic-${k}`}>{t(`patients.genetic.${k}`)}</label>
      <textarea id={`genetic-${k}`} className="input" rows={rows} required value={f[k]} onChange={(e) => set({ ...f, [k]: e.target.value })} />
    </div>
  );
  return (
    <>
      {field('test', true)}
      {field('gene', false)}
      {area('result', 2)}
      {area('interpretation', 4)}
      <fieldset className="choices" aria-describedby="genetic-readers-hint">
        <legend>{t('patients.genetic.readers')}</legend>
        <p id="genetic-readers-hint" className="field__hint">
          {t('patients.genetic.readersHint')}
        </p>
        <label className="choice">
          <input type="checkbox" checked disabled /> {t('patients.genetic.me')}
        </label>
        {others.map((p) => (
          <label key={p.id} className="choice">
            <input
              type="checkbox"
              value={p.userId!}
              checked={f.named.includes(p.userId!)}
              onChange={(e) => set({ ...f, named: e.target.checked ? [...f.named, p.userId!] : f.named.filter((id) => id !== p.userId) })}
            />{' '}
            {p.name}
          </label>
        ))}
      </fieldset>
    </>
  );
}

/** What an entry card shows of a death certificate or a genetic result. */
export function EntryDetails({ entry }: { entry: ClinicalEntry }) {
  const { t } = useTranslation();
  const { establishment } = useStaff();
  const c = entry.content as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  if (entry.kind === 'death_certificate') {
    const causes = entry.causes;
    return (
      <>
        <p>
          {t('patients.death.summary', {
            date: str(c['deathDate']),
            time: str(c['deathTime']),
            place: t(`patients.death.places.${str(c['place'])}`, { defaultValue: str(c['place']) }),
            municipality: str(c['municipality']),
          })}
          {c['forensicObstacle'] === true ? ` — ${t('patients.death.forensicObstacle')}` : ''}
        </p>
        {causes?.immediateCause ? <p className="entry-text">{t('patients.death.causesShown', { causes: [causes.immediateCause, ...(causes.underlyingCauses ?? [])].join(' ← ') })}</p> : null}
      </>
    );
  }
  if (entry.kind === 'genetic_result') {
    const named = entry.namedPractitionerUserIds ?? [];
    const names = establishment.practitioners.filter((p) => p.userId && named.includes(p.userId)).map((p) => p.name);
    return (
      <>
        <p className="card__subtitle">
          {[str(c['test']), str(c['gene'])].filter((x) => x).join(' — ')}
        </p>
        <p className="entry-text">{str(c['result'])}</p>
        <p className="entry-text">{str(c['interpretation'])}</p>
        <p className="muted">{t('patients.genetic.readBy', { names: names.join(', ') })}</p>
      </>
    );
  }
  return null;
}
