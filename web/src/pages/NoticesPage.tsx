// "My letters": the letters the establishments sent about the patient's data (breach
// notifications, GDPR art. 34), newest first. Each letter is fetched when opened (the server
// audits that read) and shown from its Markdown as React text — never as HTML — with its PDF.
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { endpoints, type Notice, type NoticeSummary } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { currentLanguage } from '../i18n';
import { formatDateTime } from '../i18n/format';
import { useLoad } from '../useLoad';

export function NoticesPage() {
  const { t } = useTranslation();
  return <RequireLogin title={t('notices.title')}>{() => <Notices />}</RequireLogin>;
}

/** "**bold** rest": the bold runs as <strong>, everything as text (React escapes it). */
function inline(text: string): ReactNode[] {
  return text.split('**').map((part, i) => (i % 2 === 1 ? <strong key={i}>{part}</strong> : part));
}

/** The subset of Markdown the letters use: "# ", "## ", "- " lists, "**bold**", tables, paragraphs. */
export function renderLetter(markdown: string): ReactNode[] {
  const out: ReactNode[] = [];
  let list: string[] = [];
  const flush = () => {
    if (list.length > 0) {
      out.push(
        <ul key={`ul-${out.length}`}>
          {list.map((item, i) => (
            <li key={i}>{inline(item)}</li>
          ))}
        </ul>,
      );
      list = [];
    }
  };
  for (const raw of markdown.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('- ')) {
      list.push(line.slice(2));
      continue;
    }
    flush();
    if (line.trim() === '' || /^\|[\s-|]+\|$/.test(line)) continue;
    if (line.startsWith('## ')) out.push(<h4 key={out.length}>{inline(line.slice(3))}</h4>);
    else if (line.startsWith('# ')) out.push(<h3 key={out.length}>{inline(line.slice(2))}</h3>);
    else if (line.startsWith('|')) out.push(<p key={out.length}>{inline(line.split('|').slice(1, -1).map((c) => c.trim()).join(' — '))}</p>);
    else out.push(<p key={out.length}>{inline(line)}</p>);
  }
  flush();
  return out;
}

function Notices() {
  const { t } = useTranslation();
  const [list] = useLoad(() => endpoints.myNotices(), 'me/notices');
  return (
    <Page title={t('notices.title')}>
      <p className="lead">{t('notices.intro')}</p>
      {list.state === 'loading' ? <p className="muted">{t('notices.loading')}</p> : null}
      {list.state === 'error' ? <ErrorNotice error={list.error} /> : null}
      {list.state === 'done' && list.data.items.length === 0 ? <p className="notice notice--info">{t('notices.none')}</p> : null}
      {list.state === 'done' && list.data.items.length > 0 ? (
        <ul className="notices" aria-label={t('notices.listLabel')} data-testid="notices">
          {list.data.items.map((n) => (
            <NoticeItem key={n.id} notice={n} />
          ))}
        </ul>
      ) : null}
    </Page>
  );
}

function NoticeItem({ notice }: { notice: NoticeSummary }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const [open, setOpen] = useState<Notice | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const read = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setOpen(await endpoints.myNotice(notice.id));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const headingId = `notice-${notice.id}`;
  return (
    <li className="card notices__item" aria-labelledby={headingId}>
      <h2 id={headingId} className="notices__title">
        {notice.title}
      </h2>
      <p className="muted">{t('notices.from', { establishment: notice.establishment, when: formatDateTime(notice.createdAt, lang) })}</p>
      {open ? (
        <article className="letter" data-testid="notice-letter" lang={open.lang}>
          {renderLetter(open.markdown)}
        </article>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      <div className="form__actions">
        {open ? null : (
          <button type="button" className="button button--primary" onClick={() => void read()} disabled={busy}>
            {t('notices.read')}
          </button>
        )}
        <a className="button button--secondary" href={endpoints.myNoticePdfUrl(notice.id)} download>
          {t('notices.pdf')}
        </a>
      </div>
    </li>
  );
}
