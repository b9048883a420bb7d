// Every page: its title in the tab, and, after a client-side navigation, the keyboard focus on its
// heading so that screen readers announce the new page (a full load starts at the top anyway).
import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router';

export function Page({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  const { key } = useLocation();

  useEffect(() => {
    document.title = `${title} — ${t('app.titleSuffix')}`;
  }, [title, t]);

  useEffect(() => {
    // The first location of a page load is 'default': the browser already starts at the top.
    if (key !== 'default') heading.current?.focus();
  }, [key]);

  return (
    <div className={className ? `page ${className}` : 'page'}>
      <h1 ref={heading} tabIndex={-1} className="page__title">
        {title}
      </h1>
      {children}
    </div>
  );
}
