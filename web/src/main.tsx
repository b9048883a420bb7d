import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App';
import { initI18n } from './i18n';
import { SessionProvider } from './session';
import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';
import './styles/workspace.css';

const container = document.getElementById('root');
if (!container) throw new Error('#root is missing from index.html');

await initI18n();
createRoot(container).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider>
        <App />
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
