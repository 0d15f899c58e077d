// The example's only script, and an optional one: every action is a plain form that works without
// it. It improves one flow: "Log out everywhere else" after an old sign-in. Without JavaScript the
// server sends the browser to a password page; with it, the password is asked for in place and the
// action is retried. Its requests carry the CSRF token in X-CSRF-Token and ask for JSON answers.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const revokeOthersForm = document.getElementById('revoke-others-form');
const reauthForm = document.getElementById('reauth-form');
const reauthError = document.getElementById('reauth-error');
/** The action waiting for the password prompt, retried once the password is confirmed. */
let pending = null;

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST', credentials: 'same-origin', body,
    headers: { Accept: 'application/json', 'X-CSRF-Token': csrfToken, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
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

revokeOthersForm?.addEventListener('submit', async (event) => {
  event.preventDefault();
  await sensitive(() => post('/devices/revoke-others'));
});

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

document.getElementById('reauth-cancel')?.addEventListener('click', () => {
  pending = null;
  reauthForm.hidden = true;
});
