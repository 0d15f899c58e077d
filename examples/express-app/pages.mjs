// The example's HTML, kept as plain template strings so the whole app reads in a few files.
const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function layout(title, body, { csrfToken } = {}) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${csrfToken ? `<meta name="csrf-token" content="${escape(csrfToken)}">` : ''}
<title>${escape(title)} · sessionkit example</title>
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export function loginPage({ error, username } = {}) {
  return layout('Sign in', `
<h1>Sign in</h1>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/login" id="login-form">
  <label>Username <input name="username" autocomplete="username" value="${escape(username)}" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>`);
}

function when(date) {
  return new Date(date).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function devicesPage({ user, sessions, currentId, csrfToken }) {
  const rows = sessions.map((s) => `
  <tr data-session-id="${escape(s.id)}"${s.id === currentId ? ' class="current"' : ''}>
    <td>${escape(s.device.browser ?? 'Unknown browser')}</td>
    <td>${escape(s.device.os ?? 'Unknown OS')}</td>
    <td>${escape(s.device.ip ?? '—')}</td>
    <td>${escape(when(s.lastSeenAt))}</td>
    <td>${s.id === currentId ? '<strong>This device</strong>' : `<button type="button" data-revoke="${escape(s.id)}">Revoke</button>`}</td>
  </tr>`).join('');
  return layout('Your devices', `
<h1>Your devices</h1>
<p>Signed in as <strong id="who">${escape(user.displayName)}</strong> (${escape(user.username)}).</p>
<table id="devices">
  <thead><tr><th>Browser</th><th>OS</th><th>IP</th><th>Last seen</th><th></th></tr></thead>
  <tbody>${rows}
  </tbody>
</table>
<p>
  <button type="button" id="revoke-others"${sessions.length < 2 ? ' disabled' : ''}>Log out everywhere else</button>
  <button type="button" id="logout">Log out</button>
</p>
<form id="reauth-form" hidden>
  <h2>Confirm your password</h2>
  <p>Your sign-in is a while ago. Enter your password again to continue.</p>
  <p class="error" role="alert" id="reauth-error" hidden></p>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Confirm</button>
  <button type="button" id="reauth-cancel">Cancel</button>
</form>`, { csrfToken });
}
