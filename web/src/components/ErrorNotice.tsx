// One way to tell the user what went wrong, from any API error: rate limits say when to retry,
// server errors give the request id to quote, nothing technical leaks into the sentence.
import { useTranslation } from 'react-i18next';
import { ApiError, NetworkError } from '../api/client';
import { formatTime } from '../i18n/format';
import { currentLanguage } from '../i18n';

const KNOWN = new Set(['unauthenticated', 'forbidden', 'not_found', 'invalid_request', 'slot_taken', 'csrf_failed', 'step_up_required', 'account_contained']);

export function useErrorMessage(): (error: unknown) => string {
  const { t } = useTranslation();
  return (error: unknown) => {
    if (error instanceof NetworkError) return t('errors.network');
    if (error instanceof ApiError) {
      if (error.code === 'rate_limited') {
        if (error.retryAfterSeconds === undefined) return t('errors.rateLimitedNoDelay');
        const at = new Date(Date.now() + error.retryAfterSeconds * 1000);
        return t('errors.rateLimited', { count: error.retryAfterSeconds, time: formatTime(at, currentLanguage()) });
      }
      if (KNOWN.has(error.code)) return t(`errors.${error.code}`);
    }
    return t('errors.generic');
  };
}

export function ErrorNotice({ error, id }: { error: unknown; id?: string }) {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const requestId = error instanceof ApiError && error.status >= 500 ? error.problem.requestId : undefined;
  return (
    <div className="notice notice--error" role="alert" id={id}>
      <p>{message(error)}</p>
      {requestId ? <p className="notice__ref">{t('errors.requestId', { id: requestId })}</p> : null}
    </div>
  );
}
