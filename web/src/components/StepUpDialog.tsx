// When the API answers `step_up_required`, the API client waits on this dialog: the user enters a
// fresh TOTP code, and the original request is replayed once it is accepted.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, setStepUpHandler } from '../api/client';
import { endpoints } from '../api/endpoints';
import { ErrorNotice } from './ErrorNotice';
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import { CodeInput } from './CodeInput';

export function StepUpDialog() {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const settle = useRef<((ok: boolean) => void) | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    setStepUpHandler(
      () =>
        new Promise<boolean>((resolve) => {
          settle.current?.(false);
          settle.current = resolve;
          setCode('');
          setError(undefined);
          setOpen(true);
        }),
    );
    return () => setStepUpHandler(undefined);
  }, []);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);

  const finish = (ok: boolean) => {
    settle.current?.(ok);
    settle.current = undefined;
    setOpen(false);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await endpoints.stepUp({ code });
      finish(true);
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.code === 'account_contained') finish(false);
    } finally {
      setBusy(false);
    }
  };

  // Admins and security officers with a passkey confirm with it (their TOTP may be turned off).
  const withPasskey = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { challengeId, options } = await endpoints.stepUpOptions();
      const response = await startAuthentication({ optionsJSON: options });
      await endpoints.stepUp({ challengeId, response });
      finish(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="step-up-title"
      aria-describedby="step-up-intro"
      data-testid="step-up-dialog"
      onCancel={(e) => {
        e.preventDefault();
        finish(false);
      }}
    >
      <form onSubmit={(e) => void submit(e)} className="form">
        <h2 id="step-up-title">{t('stepUp.title')}</h2>
        <p id="step-up-intro">{t('stepUp.intro')}</p>
        {error instanceof ApiError && (error.code === 'invalid_request' || error.code === 'invalid_credentials') ? (
          <div className="notice notice--error" role="alert">
            <p>{t('login.invalidCode')}</p>
          </div>
        ) : error ? (
          <ErrorNotice error={error} />
        ) : null}
        <CodeInput id="step-up-code" value={code} onChange={setCode} />
        <div className="form__actions">
          <button type="submit" className="button button--primary" disabled={busy}>
            {t('stepUp.confirm')}
          </button>
          <button type="button" className="button button--secondary" onClick={() => finish(false)}>
            {t('stepUp.cancel')}
          </button>
        </div>
        {browserSupportsWebAuthn() ? (
          <button type="button" className="button button--link" onClick={() => void withPasskey()} disabled={busy} data-testid="step-up-passkey">
            {t('stepUp.passkey')}
          </button>
        ) : null}
      </form>
    </dialog>
  );
}
