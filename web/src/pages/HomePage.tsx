import { useTranslation } from 'react-i18next';
import { Page } from '../components/Page';
import { SearchForm } from '../components/SearchForm';

export function HomePage() {
  const { t } = useTranslation();
  return (
    <Page title={t('home.title')} className="home">
      <p className="lead">{t('home.intro')}</p>
      <SearchForm />
      <section className="promises" aria-labelledby="promises-title">
        <h2 id="promises-title">{t('home.promisesTitle')}</h2>
        <ul>
          <li>{t('home.promise1')}</li>
          <li>{t('home.promise2')}</li>
        </ul>
      </section>
    </Page>
  );
}
