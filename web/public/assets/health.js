// Shows the service state; loaded as an external module so the strict CSP (no inline script) holds.
const target = document.querySelector('#health');
fetch('/health')
  .then((r) => r.json())
  .then((body) => {
    target.dataset.state = body.status;
    target.querySelector('span').textContent = body.status === 'ok' ? 'opérationnel' : 'dégradé';
  })
  .catch(() => {
    target.dataset.state = 'error';
    target.querySelector('span').textContent = 'injoignable';
  });
