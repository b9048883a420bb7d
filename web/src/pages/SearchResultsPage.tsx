import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ApiError } from '../api/client';
import { endpoints, type PractitionerHit, type Specialty } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { SearchForm, specialtyLabel, useSpecialties } from '../components/SearchForm';
import { currentLanguage } from '../i18n';
import { DEFAULT_TIME_ZONE, formatSlot } from '../i18n/format';
import { useLoad } from '../useLoad';
import { paths } from '../paths';

const MAX_SLOTS_SHOWN = 4;

export function SearchResultsPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const specialty = params.get('specialty') ?? '';
  const near = params.get('near') ?? '';
  const teleconsult = params.get('teleconsult') === 'true';
  const specialties = useSpecialties();
  const [results] = useLoad(
    (signal) => endpoints.searchPractitioners({ specialty: specialty || undefined, near: near || undefined, teleconsult: teleconsult || undefined }, signal),
    `search:${params.toString()}`,
  );
  const known = specialties.state === 'done' ? specialties.data : undefined;
  // Until the labels arrive the summary names no specialty rather than a raw code; if they cannot
  // be loaded, the code is all there is to show.
  const specialtyText = !specialty ? t('search.specialtyAny') : specialties.state === 'loading' ? '…' : specialtyLabel(known, specialty);

  return (
    <Page title={t('search.resultsTitle')}>
      <p className="lead" data-testid="search-summary" aria-busy={specialties.state === 'loading'}>
        {t('search.summary', { specialty: specialtyText, near: near || t('search.anywhere') })}
      </p>
      <details className="refine">
        <summary>{t('search.newSearch')}</summary>
        <SearchForm key={params.toString()} initial={{ specialty, near, teleconsult }} />
      </details>
      <section aria-live="polite" aria-busy={results.state === 'loading'} data-testid="search-results">
        {results.state === 'loading' ? <p className="muted">{t('search.loading')}</p> : null}
        {results.state === 'error' ? (
          results.error instanceof ApiError && results.error.status === 404 ? (
            <div className="notice notice--info" role="status">
              <p>{t('search.unavailable')}</p>
            </div>
          ) : (
            <ErrorNotice error={results.error} />
          )
        ) : null}
        {results.state === 'done' ? <ResultList items={results.data.items} specialties={known} /> : null}
      </section>
    </Page>
  );
}

function ResultList({ items, specialties }: { items: PractitionerHit[]; specialties: Specialty[] | undefined }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  if (items.length === 0) return <p className="notice notice--info">{t('search.none')}</p>;
  return (
    <>
      <p className="muted">{t('search.count', { count: items.length })}</p>
      <ul className="cards">
        {items.map((hit) => {
          const zone = hit.establishment.timeZone ?? DEFAULT_TIME_ZONE;
          const spec = typeof hit.specialty === 'string' ? specialtyLabel(specialties, hit.specialty) : (hit.specialty.label ?? specialtyLabel(specialties, hit.specialty.code));
          return (
            <li key={hit.practitionerId} className="card">
              <h2 className="card__title">
                <Link to={paths.practitioner(hit.practitionerId)}>{hit.name}</Link>
              </h2>
              <p className="card__subtitle">{spec}</p>
              <p className="card__meta">
                {hit.establishment.name} — {hit.establishment.postalCode} {hit.establishment.city}
              </p>
              <h3 className="card__section">{t('search.nextSlots')}</h3>
              {hit.nextSlots.length > 0 ? (
                <ul className="slots">
                  {hit.nextSlots.slice(0, MAX_SLOTS_SHOWN).map((slot) => (
                    <li key={slot.start}>
                      <Link
                        to={paths.practitioner(hit.practitionerId)}
                        state={slot.motiveId ? { resume: { practitionerId: hit.practitionerId, establishmentId: hit.establishment.id, motiveId: slot.motiveId, start: slot.start } } : null}
                      >
                        <time dateTime={slot.start}>{formatSlot(slot.start, lang, zone)}</time>
                      </Link>
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted">{t('search.noSlots')}</p>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
