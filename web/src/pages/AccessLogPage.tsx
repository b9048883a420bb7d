// "Who accessed my data": the patient's own access history, one plain sentence per access, e.g.
// "Dr Martin, cardiologue, Clinique X — consultation du dossier — 20 nov. 2026 14:02".
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { ApiError } from '../api/client';
import { endpoints, type AccessLogEntry } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { currentLanguage, type Language } from '../i18n';
import { DEFAULT_TIME_ZONE, formatDateTime } from '../i18n/format';
import { useLoad } from '../useLoad';

export function AccessLogPage() {
  const { t } = useTranslation();
  return <RequireLogin title={t('accessLog.title')}>{() => <AccessLog />}</RequireLogin>;
}

export function describeAccess(entry: AccessLogEntry, t: TFunction, lang: Language): { who: string; what: string; when: string } {
  const establishment = typeof entry.establishment === 'string' ? entry.establishment : (entry.establishment?.name ?? '');
  const zone = (typeof entry.establishment === 'object' && entry.establishment ? entry.establishment.timeZone : undefined) ?? DEFAULT_TIME_ZONE;
  const qualification = entry.actor.specialty ?? t(`roles.${entry.actor.role}`, { defaultValue: entry.actor.role });
  const who = [entry.actor.name, qualification, establishment].filter((part) => part && part.length > 0).join(', ');
  const what = t(`actions.${entry.action}`, { defaultValue: t('actions.unknown') });
  return { who, what, when: formatDateTime(entry.at, lang, zone) };
}

function AccessLog() {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const [first] = useLoad(() => endpoints.myAccessLog(), 'me/access-log');
  const [more, setMore] = useState<{ items: AccessLogEntry[]; cursor: string | null | undefined }>({ items: [], cursor: undefined });
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const cursor = more.cursor !== undefined ? more.cursor : first.state === 'done' ? first.data.nextCursor : undefined;
  const items = first.state === 'done' ? [...first.data.items, ...more.items] : [];

  const loadMore = async () => {
    if (!cursor) return;
    setBusy(true);
    setMoreError(undefined);
    try {
      const page = await endpoints.myAccessLog(cursor);
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.nextCursor ?? null }));
    } catch (error) {
      setMoreError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={t('accessLog.title')}>
      <p className="lead">{t('accessLog.intro')}</p>
      {first.state === 'loading' ? <p className="muted">{t('accessLog.loading')}</p> : null}
      {first.state === 'error' ? (
        first.error instanceof ApiError && first.error.code === 'not_found' ? (
          <p className="notice notice--info">{t('accessLog.unavailable')}</p>
        ) : (
          <ErrorNotice error={first.error} />
        )
      ) : null}
      {first.state === 'done' && items.length === 0 ? <p className="notice notice--info">{t('accessLog.none')}</p> : null}
      {items.length > 0 ? (
        <ol className="access-log" aria-label={t('accessLog.listLabel')} data-testid="access-log">
          {items.map((entry, index) => {
            const { who, what, when } = describeAccess(entry, t, lang);
            const urgent = entry.action === 'break_glass' || entry.action === 'access.break_glass';
            return (
              <li key={`${entry.at}-${index}`} className={urgent ? 'access-log__item access-log__item--urgent' : 'access-log__item'}>
                <p>
                  <span className="access-log__who">{who}</span> — <span className="access-log__what">{what}</span> — <time dateTime={entry.at}>{when}</time>
                </p>
                {urgent ? <p className="badge badge--urgent">{t('accessLog.breakGlass')}</p> : null}
                {entry.reason ? <p className="access-log__reason">{t('accessLog.reason', { reason: entry.reason })}</p> : null}
              </li>
            );
          })}
        </ol>
      ) : null}
      {moreError ? <ErrorNotice error={moreError} /> : null}
      {cursor ? (
        <button type="button" className="button button--secondary" onClick={() => void loadMore()} disabled={busy}>
          {t('accessLog.more')}
        </button>
      ) : null}
    </Page>
  );
}
