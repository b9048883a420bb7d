import { useTranslation } from 'react-i18next';

/** A 6-digit one-time code, with the hints phones and password managers understand. */
export function CodeInput({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const { t } = useTranslation();
  return (
    <div className="field">
      <label htmlFor={id}>{t('login.code')}</label>
      <span className="field__hint" id={`${id}-hint`}>
        {t('login.codeHint')}
      </span>
      <input
        id={id}
        name="code"
        className="input input--code"
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]{6}"
        maxLength={6}
        required
        aria-describedby={`${id}-hint`}
        value={value}
        onChange={(e) => onChange(e.target.value.replace(/\D/g, ''))}
      />
    </div>
  );
}
