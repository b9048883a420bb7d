// The public practitioner search. Its terms (a specialty, a town) are not personal data, so the
// results page keeps them in its URL: a search can be bookmarked and shared.
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { endpoints, type Specialty } from '../api/endpoints';
import { currentLanguage } from '../i18n';
import { useLoad, type Load } from '../useLoad';
import { paths } from '../paths';

export interface SearchTerms {
  specialty: string;
  near: string;
  teleconsult: boolean;
}

export function searchUrl(terms: SearchTerms): string {
  const params = new URLSearchParams();
  if (terms.specialty) params.set('specialty', terms.specialty);
  if (terms.near.trim()) params.set('near', terms.near.trim());
  if (terms.teleconsult) params.set('teleconsult', 'true');
  const query = params.toString();
  return query ? `${paths.search}?${query}` : paths.search;
}

// The specialties are a reference list: once loaded in a language, every later page has their
// labels from its first render (the results page would otherwise show a code such as
// "cardiology" until its own copy arrives).
const knownSpecialties = new Map<string, Specialty[]>();

export function useSpecialties(): Load<Specialty[]> {
  const lang = currentLanguage();
  const [load] = useLoad(async (signal) => {
    const items = (await endpoints.specialties(lang)).items;
    if (!signal.aborted) knownSpecialties.set(lang, items);
    return items;
  }, `specialties:${lang}`);
  const cached = knownSpecialties.get(lang);
  return load.state === 'done' || cached === undefined ? load : { state: 'done', data: cached };
}

export function specialtyLabel(specialties: Specialty[] | undefined, code: string): string {
  return specialties?.find((s) => s.code === code)?.label ?? code;
}

export function SearchForm({ initial, headingLevel = 2 }: { initial?: Partial<SearchTerms>; headingLevel?: 2 | 3 }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const specialties = useSpecialties();
  const [specialty, setSpecialty] = useState(initial?.specialty ?? '');
  const [near, setNear] = useState(initial?.near ?? '');
  const [teleconsult, setTeleconsult] = useState(initial?.teleconsult ?? false);
  const Heading = headingLevel === 2 ? 'h2' : 'h3';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void navigate(searchUrl({ specialty, near, teleconsult }));
  };

  return (
    <form className="search-form" role="search" aria-labelledby="search-form-title" onSubmit={submit} data-testid="search-form">
      <Heading id="search-form-title" className="search-form__title">
        {t('search.formTitle')}
      </Heading>
      <div className="search-form__fields">
        <div className="field">
          <label htmlFor="search-specialty">{t('search.specialty')}</label>
          <select
            id="search-specialty"
            name="specialty"
            className="input"
            value={specialty}
            onChange={(e) => setSpecialty(e.target.value)}
            aria-busy={specialties.state === 'loading'}
            aria-describedby={specialties.state === 'error' ? 'search-specialty-error' : undefined}
          >
            <option value="">{specialties.state === 'loading' ? t('search.specialtyLoading') : t('search.specialtyAny')}</option>
            {specialties.state === 'done'
              ? specialties.data.map((s) => (
                  <option key={s.code} value={s.code}>
                    {s.label}
                  </option>
                ))
              : null}
          </select>
          {specialties.state === 'error' ? (
            <span className="field__error" id="search-specialty-error">
              {t('search.specialtyError')}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor="search-near">{t('search.near')}</label>
          <input
            id="search-near"
            name="near"
            className="input"
            autoComplete="address-level2"
            aria-describedby="search-near-hint"
            value={near}
            onChange={(e) => setNear(e.target.value)}
          />
          <span className="field__hint" id="search-near-hint">
            {t('search.nearHint')}
          </span>
        </div>
        <div className="field field--check">
          <input id="search-teleconsult" name="teleconsult" type="checkbox" checked={teleconsult} onChange={(e) => setTeleconsult(e.target.checked)} />
          <label htmlFor="search-teleconsult">{t('search.teleconsult')}</label>
        </div>
        <button type="submit" className="button button--primary search-form__submit">
          {t('search.submit')}
        </button>
      </div>
    </form>
  );
}
