// The example's only script: sends the page's writes with the CSRF token in X-CSRF-Token, which
// sessionkit requires on cookie-authenticated POSTs (a plain HTML form cannot set a header).
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

async function post(path) {
  const res = await fetch(path, { method: 'POST', headers: { 'X-CSRF-Token': csrfToken }, credentials: 'same-origin' });
  if (res.status === 401) window.location.assign('/login');
  return res;
}

document.addEventListener('click', async (event) => {
  const target = event.target;
  if (!(target instanceof window.HTMLButtonElement)) return;
  if (target.dataset.revoke) {
    await post(`/devices/${encodeURIComponent(target.dataset.revoke)}/revoke`);
    window.location.reload();
  } else if (target.id === 'revoke-others') {
    await post('/devices/revoke-others');
    window.location.reload();
  } else if (target.id === 'logout') {
    await post('/logout');
    window.location.assign('/login');
  }
});
