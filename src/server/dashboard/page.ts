/**
 * The dashboard's two HTML pages. No inline script or style (the Content-Security-Policy forbids
 * them); the only dynamic values, the CSRF token and the key's name, are HTML-escaped.
 */

/** Escapes text for an HTML element or a double-quoted attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const HEAD = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/assets/app.css">`;

/**
 * The sign-in form: an admin API key, sent once to `POST /dashboard/login`.
 *
 * @example reply.type('text/html').send(loginPage())
 */
export function loginPage(): string {
  return `${HEAD}
<title>sessionkit dashboard: sign in</title>
</head>
<body>
<main><section class="card span-12 login">
<h1>sessionkit dashboard</h1>
<form id="login-form" autocomplete="off">
<label for="api-key">Admin API key</label>
<input id="api-key" name="apiKey" type="password" placeholder="ska_…" autocomplete="off" required>
<button class="primary" type="submit">Sign in</button>
<p id="login-msg" class="msg" role="status"></p>
</form>
<p class="sub">The key is exchanged for a dashboard cookie and not kept by this page.</p>
</section></main>
<script src="/dashboard/assets/login.js"></script>
</body>
</html>
`;
}

const CHART_NAMES: [string, string][] = [['created', 'Created'], ['renewed', 'Renewed'], ['revoked', 'Revoked'], ['rejected', 'Rejected']];

/**
 * The live view. `csrfToken` is the dashboard session's token for its writes.
 *
 * @example reply.type('text/html').send(appPage({ csrfToken, keyName: 'ops' }))
 */
export function appPage(input: { csrfToken: string; keyName: string }): string {
  const charts = CHART_NAMES.map(([id, label]) => `<div class="chart"><div class="title"><span>${label} per minute</span><span id="total-${id}">-</span></div>
<svg id="chart-${id}" viewBox="0 0 300 70" preserveAspectRatio="none" role="img" aria-label="${label} sessions per minute, last hour"></svg></div>`).join('\n');
  return `${HEAD}
<meta name="csrf-token" content="${escapeHtml(input.csrfToken)}">
<title>sessionkit dashboard</title>
</head>
<body>
<header>
<h1>sessionkit dashboard</h1>
<span class="who">signed in with key “${escapeHtml(input.keyName)}” · <span id="live-dot" class="status"></span><span id="live-text">connecting</span> · <span id="updated"></span></span>
<button id="signout" type="button">Sign out</button>
</header>
<main>
<section class="card span-3" aria-labelledby="h-active"><h2 id="h-active">Active sessions</h2>
<div id="active-count" class="big">–</div><div id="active-note" class="sub"></div></section>
<section class="card span-9" aria-labelledby="h-charts"><h2 id="h-charts">Last hour</h2><div class="charts">
${charts}
</div></section>
<section class="card span-7" aria-labelledby="h-devices"><h2 id="h-devices">Active sessions by device</h2><div class="devices">
<div><div class="sub">Type</div><ul id="dev-type" class="bars"></ul></div>
<div><div class="sub">Browser</div><ul id="dev-browser" class="bars"></ul></div>
<div><div class="sub">OS</div><ul id="dev-os" class="bars"></ul></div>
</div></section>
<section class="card span-5" aria-labelledby="h-feed"><h2 id="h-feed">Live events</h2><ul id="feed" aria-live="polite"></ul></section>
<section class="card span-12" aria-labelledby="h-user"><h2 id="h-user">Sessions of a user</h2>
<form id="search-form" class="search"><input id="search-user" type="text" placeholder="user id" aria-label="user id" autocomplete="off">
<button class="primary" type="submit">Search</button><button id="logout-all" class="danger" type="button" hidden>Log out everywhere</button></form>
<p id="search-msg" class="msg" role="status"></p>
<table class="table"><thead><tr><th>Device</th><th>IP</th><th>Created</th><th>Last seen</th><th>Timeouts (policy)</th><th>Expires</th><th></th></tr></thead>
<tbody id="user-sessions"></tbody></table></section>
<section class="card span-12" aria-labelledby="h-keys"><h2 id="h-keys">Signing keys</h2>
<table class="table"><thead><tr><th>kid</th><th>alg</th><th>state</th><th>created</th><th>retires</th></tr></thead><tbody id="keys"></tbody></table></section>
</main>
<script src="/dashboard/assets/app.js"></script>
</body>
</html>
`;
}
