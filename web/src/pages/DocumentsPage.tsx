// End-to-end encrypted documents: create or unlock my keys (the private key is unwrapped here
// and kept in memory only), read the documents shared with me, and — for practitioners — seal a
// document for a patient (and a colleague) before it leaves the browser.
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { v7 as uuidv7 } from 'uuid';
import { ApiError } from '../api/client';
import { endpoints, type CurrentUser, type E2eDocumentSummary } from '../api/endpoints';
import { ErrorNotice } from '../components/ErrorNotice';
import { Page } from '../components/Page';
import { RequireLogin } from '../components/RequireLogin';
import { createKeyBundle, openDocument, unlockPrivateKey, sealDocument, type KeyBundle } from '../e2e/crypto';
import { forgetPrivateKey, heldPrivateKey, holdPrivateKey } from '../e2e/keyring';
import { currentLanguage } from '../i18n';
import { formatDateTime } from '../i18n/format';

export function DocumentsPage() {
  const { t } = useTranslation();
  return <RequireLogin title={t('documents.title')}>{(user) => <Documents user={user} />}</RequireLogin>;
}

type KeyState = { kind: 'loading' } | { kind: 'none' } | { kind: 'locked'; bundle: KeyBundle } | { kind: 'unlocked' } | { kind: 'error'; error: unknown };

function Documents({ user }: { user: CurrentUser }) {
  const { t } = useTranslation();
  const [keys, setKeys] = useState<KeyState>(() => (heldPrivateKey(user.id) ? { kind: 'unlocked' } : { kind: 'loading' }));
  const [recoveryCode, setRecoveryCode] = useState<string | undefined>(undefined);

  useEffect(() => {
    if (heldPrivateKey(user.id)) return;
    endpoints.myE2eKeys().then(
      (bundle) => setKeys({ kind: 'locked', bundle }),
      (error: unknown) => setKeys(error instanceof ApiError && error.status === 404 ? { kind: 'none' } : { kind: 'error', error }),
    );
  }, [user.id]);

  const practitionerOf = user.memberships.filter((m) => m.role === 'practitioner').map((m) => m.establishmentId);

  return (
    <Page title={t('documents.title')}>
      <p className="lead">{t('documents.intro')}</p>
      {keys.kind === 'loading' ? <p className="muted" role="status">{t('app.loading')}</p> : null}
      {keys.kind === 'error' ? <ErrorNotice error={keys.error} /> : null}
      {keys.kind === 'none' ? (
        <CreateKeys
          onCreated={(code, privateKey) => {
            holdPrivateKey(user.id, privateKey);
            setRecoveryCode(code);
          }}
        />
      ) : null}
      {recoveryCode ? <RecoveryCode code={recoveryCode} onDone={() => (setRecoveryCode(undefined), setKeys({ kind: 'unlocked' }))} /> : null}
      {keys.kind === 'locked' ? <Unlock bundle={keys.bundle} onUnlocked={(k) => (holdPrivateKey(user.id, k), setKeys({ kind: 'unlocked' }))} /> : null}
      {keys.kind === 'unlocked' && !recoveryCode ? (
        <>
          <p>
            <button type="button" className="button button--secondary" onClick={() => (forgetPrivateKey(), window.location.reload())}>
              {t('documents.lock')}
            </button>
          </p>
          <Received userId={user.id} />
          {practitionerOf.length > 0 ? <Share userId={user.id} establishments={practitionerOf} /> : null}
        </>
      ) : null}
    </Page>
  );
}

function CreateKeys({ onCreated }: { onCreated: (recoveryCode: string, privateKey: CryptoKey) => void }) {
  const { t } = useTranslation();
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    if (passphrase.length < 12) return setProblem(t('documents.create.tooShort'));
    if (passphrase !== confirm) return setProblem(t('documents.create.mismatch'));
    setProblem(undefined);
    setBusy(true);
    try {
      const { bundle, recoveryCode, privateKey } = await createKeyBundle(passphrase);
      await endpoints.publishE2eKeys(bundle);
      onCreated(recoveryCode, privateKey);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="create-title">
      <h2 id="create-title">{t('documents.create.title')}</h2>
      <p>{t('documents.create.explain')}</p>
      <p className="notice notice--warning" data-testid="loss-warning">
        <strong>{t('documents.create.lossWarning')}</strong>
      </p>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <label htmlFor="new-passphrase">{t('documents.create.passphrase')}</label>
        <input id="new-passphrase" type="password" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
        <label htmlFor="confirm-passphrase">{t('documents.create.confirm')}</label>
        <input id="confirm-passphrase" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
        {problem ? <p className="notice notice--error" role="alert">{problem}</p> : null}
        {error ? <ErrorNotice error={error} /> : null}
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={busy}>
            {busy ? t('documents.create.working') : t('documents.create.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}

function RecoveryCode({ code, onDone }: { code: string; onDone: () => void }) {
  const { t } = useTranslation();
  const [noted, setNoted] = useState(false);
  return (
    <section aria-labelledby="recovery-title" className="notice notice--warning">
      <h2 id="recovery-title">{t('documents.recovery.title')}</h2>
      <p>{t('documents.recovery.explain')}</p>
      <p className="recovery-code" data-testid="recovery-code">
        <code>{code}</code>
      </p>
      <p>
        <strong>{t('documents.create.lossWarning')}</strong>
      </p>
      <p>
        <input id="recovery-noted" type="checkbox" checked={noted} onChange={(e) => setNoted(e.target.checked)} />{' '}
        <label htmlFor="recovery-noted">{t('documents.recovery.noted')}</label>
      </p>
      <button type="button" className="button button--primary" disabled={!noted} onClick={onDone}>
        {t('documents.recovery.continue')}
      </button>
    </section>
  );
}

function Unlock({ bundle, onUnlocked }: { bundle: KeyBundle; onUnlocked: (key: CryptoKey) => void }) {
  const { t } = useTranslation();
  const [secret, setSecret] = useState('');
  const [which, setWhich] = useState<'passphrase' | 'recovery'>('passphrase');
  const [failed, setFailed] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      onUnlocked(await unlockPrivateKey(bundle, secret, which));
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="unlock-title">
      <h2 id="unlock-title">{t('documents.unlock.title')}</h2>
      <p>{t('documents.unlock.explain')}</p>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <label htmlFor="unlock-secret">{which === 'passphrase' ? t('documents.unlock.passphrase') : t('documents.unlock.recovery')}</label>
        <input id="unlock-secret" type="password" autoComplete="current-password" value={secret} onChange={(e) => setSecret(e.target.value)} />
        {failed ? <p className="notice notice--error" role="alert">{t('documents.unlock.failed')}</p> : null}
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={busy}>
            {t('documents.unlock.submit')}
          </button>
          <button type="button" className="button button--secondary" onClick={() => (setWhich(which === 'passphrase' ? 'recovery' : 'passphrase'), setFailed(false))}>
            {which === 'passphrase' ? t('documents.unlock.useRecovery') : t('documents.unlock.usePassphrase')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Received({ userId }: { userId: string }) {
  const { t } = useTranslation();
  const lang = currentLanguage();
  const [items, setItems] = useState<E2eDocumentSummary[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [opened, setOpened] = useState<{ id: string; name: string; type: string; url: string; text?: string } | undefined>(undefined);
  useEffect(() => {
    endpoints.myE2eDocuments().then((r) => setItems(r.items), setError);
  }, []);
  useEffect(() => () => (opened ? URL.revokeObjectURL(opened.url) : undefined), [opened]);
  const open = async (id: string) => {
    const key = heldPrivateKey(userId);
    if (!key) return;
    try {
      const { content, meta } = await openDocument(await endpoints.myE2eDocument(id), key);
      const blob = new Blob([content], { type: meta.type });
      setOpened({ id, name: meta.name, type: meta.type, url: URL.createObjectURL(blob), ...(meta.type.startsWith('text/') ? { text: new TextDecoder().decode(content) } : {}) });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="received-title">
      <h2 id="received-title">{t('documents.received.title')}</h2>
      {error ? <ErrorNotice error={error} /> : null}
      {items?.length === 0 ? <p className="muted">{t('documents.received.none')}</p> : null}
      {items && items.length > 0 ? (
        <ul className="cards" data-testid="documents">
          {items.map((d) => (
            <li key={d.id} className="card">
              <p className="card__title">{t('documents.received.from', { name: d.author.name, when: formatDateTime(d.createdAt, lang) })}</p>
              <button type="button" className="button button--secondary" onClick={() => void open(d.id)}>
                {t('documents.received.open')}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {opened ? (
        <div className="document-view" data-testid="document-view">
          <h3>{opened.name}</h3>
          {opened.text !== undefined ? <pre data-testid="document-text">{opened.text}</pre> : null}
          {opened.type.startsWith('image/') ? <img src={opened.url} alt={opened.name} className="document-view__image" /> : null}
          <a className="button button--secondary" href={opened.url} download={opened.name}>
            {t('documents.received.download')}
          </a>
        </div>
      ) : null}
    </section>
  );
}

function Share({ userId, establishments }: { userId: string; establishments: string[] }) {
  const { t } = useTranslation();
  const [establishmentId, setEstablishmentId] = useState(establishments[0] ?? '');
  const [patientId, setPatientId] = useState('');
  const [colleagueId, setColleagueId] = useState('');
  const [file, setFile] = useState<File | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setProblem(undefined);
    setDone(false);
    if (!file) return setProblem(t('documents.share.noFile'));
    if (!heldPrivateKey(userId)) return;
    setBusy(true);
    try {
      const recipients = await endpoints.e2eRecipients(establishmentId, patientId.trim());
      if (!recipients.patient) {
        setProblem(t('documents.share.patientHasNoKeys'));
        return;
      }
      const list = [recipients.patient, ...(recipients.self ? [recipients.self] : [])];
      if (colleagueId.trim() !== '') list.push(await endpoints.colleagueE2eKey(establishmentId, colleagueId.trim()));
      const content = new Uint8Array(await file.arrayBuffer());
      const sealed = await sealDocument(uuidv7(), content, { name: file.name, type: file.type || 'application/octet-stream' }, list);
      await endpoints.shareE2eDocument(establishmentId, patientId.trim(), sealed);
      setDone(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="share-title">
      <h2 id="share-title">{t('documents.share.title')}</h2>
      <p>{t('documents.share.explain')}</p>
      <form className="form" onSubmit={(e) => void submit(e)}>
        {establishments.length > 1 ? (
          <>
            <label htmlFor="share-establishment">{t('documents.share.establishment')}</label>
            <select id="share-establishment" value={establishmentId} onChange={(e) => setEstablishmentId(e.target.value)}>
              {establishments.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </>
        ) : null}
        <label htmlFor="share-patient">{t('documents.share.patient')}</label>
        <input id="share-patient" value={patientId} onChange={(e) => setPatientId(e.target.value)} autoComplete="off" required />
        <label htmlFor="share-colleague">{t('documents.share.colleague')}</label>
        <input id="share-colleague" value={colleagueId} onChange={(e) => setColleagueId(e.target.value)} autoComplete="off" />
        <label htmlFor="share-file">{t('documents.share.file')}</label>
        <input id="share-file" type="file" onChange={(e) => setFile(e.target.files?.[0])} />
        {problem ? <p className="notice notice--error" role="alert">{problem}</p> : null}
        {error ? <ErrorNotice error={error} /> : null}
        {done ? <p className="notice notice--success" role="status" data-testid="shared">{t('documents.share.done')}</p> : null}
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={busy}>
            {t('documents.share.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
