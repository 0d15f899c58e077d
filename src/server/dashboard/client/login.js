// @ts-check
// Sign-in: the admin API key goes once to POST /dashboard/login (X-API-Key); the answer is an
// HttpOnly dashboard cookie, so the page never keeps the key.
(() => {
  'use strict';
  /** @param {string} id */
  function $(id) {
    const node = document.getElementById(id);
    if (!node) throw new Error(`the page has no #${id}`);
    return node;
  }
  const form = $('login-form');
  const input = /** @type {HTMLInputElement} */ ($('api-key'));
  const msg = $('login-msg');

  /** @param {string} text */
  function fail(text) {
    msg.textContent = text;
    msg.className = 'msg err';
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    if (!key) {
      msg.textContent = 'Enter an admin API key.';
      return;
    }
    msg.textContent = 'Signing in\u2026';
    let res;
    try {
      res = await fetch('/dashboard/login', { method: 'POST', headers: { 'x-api-key': key }, credentials: 'same-origin' });
    } catch {
      fail('The service did not answer.');
      return;
    }
    input.value = '';
    if (res.ok) {
      window.location.assign('/dashboard');
      return;
    }
    const body = await res.json().catch(() => null);
    fail(res.status === 401 || res.status === 403
      ? 'That key was refused: it must be a valid API key with the admin scope.'
      : (body && body.message) || `Sign-in failed (HTTP ${res.status}).`);
  });
})();
