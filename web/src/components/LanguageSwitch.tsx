import { useTranslation } from 'react-i18next';
import { currentLanguage, setLanguage } from '../i18n';

export function LanguageSwitch() {
  const { t } = useTranslation();
  const other = currentLanguage() === 'fr' ? 'en' : 'fr';
  return (
    <button
      type="button"
      className="button button--ghost lang-switch"
      lang={other}
      aria-label={t('lang.switchToLabel')}
      data-testid="lang-switch"
      onClick={() => void setLanguage(other)}
    >
      {t('lang.switchTo')}
    </button>
  );
}
