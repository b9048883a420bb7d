/* global window */
// The browser half of the passkey test: @simplewebauthn/browser as a module (no inline script,
// so the server's CSP applies as in production), talking to the real API.
import { startAuthentication, startRegistration } from '/passkey-test/swa/index.js';

async function api(path, body, csrfToken) {
  const res = await fetch(`/api/v1/auth${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(csrfToken ? { 'x-csrf-token': csrfToken } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

window.passkeys = {
  api,
  async register(csrfToken, name) {
    const options = await api('/webauthn/register/options', {}, csrfToken);
    if (options.status !== 200) return options;
    const response = await startRegistration({ optionsJSON: options.body.options });
    return api('/webauthn/register/verify', { challengeId: options.body.challengeId, response, name }, csrfToken);
  },
  /** After a password (challengeId) or alone (no challengeId). */
  async login(challengeId) {
    const options = await api('/webauthn/login/options', challengeId ? { challengeId } : {});
    if (options.status !== 200) return options;
    const response = await startAuthentication({ optionsJSON: options.body.options });
    return api('/webauthn/login/verify', { challengeId: options.body.challengeId, response });
  },
  async stepUp(csrfToken) {
    const options = await api('/step-up/options', {}, csrfToken);
    if (options.status !== 200) return options;
    const response = await startAuthentication({ optionsJSON: options.body.options });
    return api('/step-up', { challengeId: options.body.challengeId, response }, csrfToken);
  },
};
document.body.dataset.ready = '1';
