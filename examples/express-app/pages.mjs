// The example's HTML, kept as plain template strings so the whole app reads in a few files. Every
// action is a form with the session's CSRF token in a hidden `_csrf` field: no JavaScript needed.
const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function layout(title, body, { csrfToken, user } = {}) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${csrfToken ? `<meta name="csrf-token" content="${escape(csrfToken)}">` : ''}
<title>${escape(title)} · sessionkit example</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body>
<header class="bar">
  <span class="brand"><span class="dot" aria-hidden="true"></span>sessionkit <span class="muted">example</span></span>
  ${user ? `<span class="who">${escape(user.displayName)}</span>` : ''}
</header>
<main>
${body}
</main>
<footer class="foot">Sessions by sessionkit · works with JavaScript turned off</footer>
</body>
</html>`;
}

/** The hidden field every form of a signed-in page carries (sessionkit checks it on POST). */
const csrfField = (csrfToken) => `<input type="hidden" name="_csrf" value="${escape(csrfToken)}">`;

export function loginPage({ error, username } = {}) {
  return layout('Sign in', `
<section class="card narrow">
  <h1>Sign in</h1>
  <p class="muted">Use the demo account printed in the terminal.</p>
  ${error ? `<p class="notice error" role="alert">${escape(error)}</p>` : ''}
  <form method="post" action="/login" id="login-form" class="stack">
    <label>Username <input name="username" autocomplete="username" value="${escape(username)}" required></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit" class="primary">Sign in</button>
  </form>
</section>`);
}

function when(date) {
  return new Date(date).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function devicesPage({ user, sessions, currentId, csrfToken, notice }) {
  const rows = sessions.map((s) => `
  <tr data-session-id="${escape(s.id)}"${s.id === currentId ? ' class="current"' : ''}>
    <td data-label="Browser">${escape(s.device.browser || 'Unknown browser')}</td>
    <td data-label="OS">${escape(s.device.os || 'Unknown OS')}</td>
    <td data-label="IP">${escape(s.device.ip ?? '—')}</td>
    <td data-label="Last seen"><time datetime="${escape(new Date(s.lastSeenAt).toISOString())}">${escape(when(s.lastSeenAt))}</time></td>
    <td class="action">${s.id === currentId
      ? '<span class="pill">This device</span>'
      : `<form method="post" action="/devices/${encodeURIComponent(s.id)}/revoke">${csrfField(csrfToken)}<button type="submit" class="danger small" data-revoke="${escape(s.id)}">Revoke</button></form>`}</td>
  </tr>`).join('');
  return layout('Your devices', `
<section class="card">
  <h1>Your devices</h1>
  <p>Signed in as <strong id="who">${escape(user.displayName)}</strong> (${escape(user.username)}). Every browser you are signed in with is listed here; sign out the ones you do not recognise.</p>
  ${notice ? `<p class="notice ok" role="status">${escape(notice)}</p>` : ''}
  <table id="devices">
    <thead><tr><th>Browser</th><th>OS</th><th>IP</th><th>Last seen</th><th><span class="sr-only">Action</span></th></tr></thead>
    <tbody>${rows}
    </tbody>
  </table>
  <div class="actions">
    <form method="post" action="/devices/revoke-others" id="revoke-others-form">${csrfField(csrfToken)}<button type="submit" id="revoke-others" class="secondary"${sessions.length < 2 ? ' disabled' : ''}>Log out everywhere else</button></form>
    <form method="post" action="/logout" id="logout-form">${csrfField(csrfToken)}<button type="submit" id="logout" class="ghost">Log out</button></form>
  </div>
  <form id="reauth-form" class="stack inset" hidden>
    <h2>Confirm your password</h2>
    <p>Your sign-in is a while ago. Enter your password again to continue.</p>
    <p class="notice error" role="alert" id="reauth-error" hidden></p>
    <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
    <div class="actions"><button type="submit" class="primary">Confirm</button><button type="button" id="reauth-cancel" class="ghost">Cancel</button></div>
  </form>
</section>`, { csrfToken, user });
}

/** The password prompt as a page of its own, for browsers without JavaScript. */
export function reauthPage({ csrfToken, then, error }) {
  return layout('Confirm your password', `
<section class="card narrow">
  <h1>Confirm your password</h1>
  <p>Your sign-in is a while ago. Enter your password again to ${then === 'revoke-others' ? 'log out everywhere else' : 'continue'}.</p>
  ${error ? `<p class="notice error" role="alert" id="reauth-page-error">${escape(error)}</p>` : ''}
  <form method="post" action="/reauth" id="reauth-page-form" class="stack">
    ${csrfField(csrfToken)}
    ${then ? `<input type="hidden" name="then" value="${escape(then)}">` : ''}
    <label>Password <input name="password" type="password" autocomplete="current-password" required autofocus></label>
    <div class="actions"><button type="submit" class="primary">Confirm</button><a class="button ghost" href="/devices">Cancel</a></div>
  </form>
</section>`, { csrfToken });
}
