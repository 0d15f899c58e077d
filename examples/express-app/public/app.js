// The example's only script: sends the page's writes with the CSRF token in X-CSRF-Token, which
// sessionkit requires on cookie-authenticated POSTs (a plain HTML form cannot set a header), and
// asks for the password again when an action answers 403 reauthentication_required.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const reauthForm = document.getElementById('reauth-form');
const reauthError = document.getElementById('reauth-error');
/** The action waiting for the password prompt, retried once the password is confirmed. */
let pending = null;

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST', credentials: 'same-origin', body,
    headers: { 'X-CSRF-Token': csrfToken, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
  });
  if (res.status === 401) window.location.assign('/login');
  return res;
}

/** Runs a sensitive action; a stale sign-in opens the password prompt and the action waits for it. */
async function sensitive(action) {
  const res = await action();
  if (res.status !== 403) return window.location.reload();
  const body = await res.json().catch(() => ({}));
  if (body.error !== 'reauthentication_required') return window.location.reload();
  pending = action;
  reauthError.hidden = true;
  reauthForm.hidden = false;
  reauthForm.elements.password.focus();
}

reauthForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const res = await post('/reauth', new window.URLSearchParams({ password: reauthForm.elements.password.value }));
  if (!res.ok) {
    reauthError.textContent = (await res.json().catch(() => ({}))).message ?? 'That did not work.';
    reauthError.hidden = false;
    reauthForm.elements.password.select();
    return;
  }
  reauthForm.hidden = true;
  const action = pending;
  pending = null;
  if (action) await sensitive(action);
});

document.addEventListener('click', async (event) => {
  const target = event.target;
  if (!(target instanceof window.HTMLButtonElement)) return;
  if (target.dataset.revoke) {
    await post(`/devices/${encodeURIComponent(target.dataset.revoke)}/revoke`);
    window.location.reload();
  } else if (target.id === 'revoke-others') {
    await sensitive(() => post('/devices/revoke-others'));
  } else if (target.id === 'reauth-cancel') {
    pending = null;
    reauthForm.hidden = true;
  } else if (target.id === 'logout') {
    await post('/logout');
    window.location.assign('/login');
  }
});
