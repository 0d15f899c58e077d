/**
 * The dashboard's static files, hand-written and kept as strings so the package needs no build
 * step and no file copying: tsc alone ships them. No CDN: the page loads only these.
 * (Keep backticks and dollar-brace out of them: they are raw template literals.)
 */
import { createHash } from 'node:crypto';

const APP_CSS = String.raw`:root { --bg: #f5f6f8; --card: #fff; --ink: #1d2330; --muted: #5d6677; --line: #dde1e8; --accent: #2563eb;
  --created: #2563eb; --renewed: #0d9488; --revoked: #d97706; --rejected: #dc2626; --expired: #7c3aed; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { overflow-x: hidden; }
header { display: flex; align-items: center; justify-content: space-between; gap: 12px; flex-wrap: wrap;
  padding: 10px 16px; background: #111827; color: #fff; }
header h1 { font-size: 16px; margin: 0; }
header .who { font-size: 12px; color: #cbd5e1; overflow-wrap: anywhere; }
header button { background: transparent; color: #fff; border: 1px solid #475569; }
main { display: grid; gap: 12px; padding: 12px; grid-template-columns: repeat(12, minmax(0, 1fr)); max-width: 1400px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; }
.card h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
.span-3 { grid-column: span 3; } .span-4 { grid-column: span 4; } .span-5 { grid-column: span 5; }
.span-6 { grid-column: span 6; } .span-7 { grid-column: span 7; } .span-8 { grid-column: span 8; } .span-9 { grid-column: span 9; } .span-12 { grid-column: span 12; }
.big { font-size: 40px; font-weight: 700; line-height: 1.1; }
.sub { color: var(--muted); font-size: 12px; }
.status { display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: #9ca3af; margin-right: 6px; }
.status.live { background: #16a34a; } .status.down { background: #dc2626; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
.chart { min-width: 0; }
.chart .title { display: flex; justify-content: space-between; font-size: 12px; color: var(--muted); }
.chart svg { width: 100%; height: 70px; display: block; background: #fafbfc; border: 1px solid var(--line); border-radius: 4px; }
.bars { list-style: none; margin: 0; padding: 0; }
.bars li { display: grid; grid-template-columns: minmax(0, 1fr) 40px; gap: 6px; align-items: center; margin: 3px 0; font-size: 12px; }
.bars .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bars .track { grid-column: 1 / -1; height: 6px; background: #eef1f5; border-radius: 3px; }
.bars .fill { height: 6px; background: var(--accent); border-radius: 3px; }
.bars .n { text-align: right; font-variant-numeric: tabular-nums; }
.devices { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 10px; }
#feed { list-style: none; margin: 0; padding: 0; max-height: 340px; overflow-y: auto; font-size: 12px; }
#feed li { padding: 5px 0; border-bottom: 1px solid var(--line); display: grid; grid-template-columns: 64px minmax(0, 1fr); gap: 6px; }
#feed .t { color: var(--muted); font-variant-numeric: tabular-nums; }
#feed .ty { font-weight: 600; }
#feed .ty.session-created { color: var(--created); } #feed .ty.session-revoked { color: var(--revoked); }
#feed .ty.session-rejected, #feed .ty.apikey-rejected { color: var(--rejected); } #feed .ty.session-renewed { color: var(--renewed); }
#feed .d { color: var(--muted); overflow-wrap: anywhere; }
form.search { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 8px; }
input[type=text], input[type=password] { flex: 1 1 180px; min-width: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
button { padding: 7px 12px; border-radius: 6px; border: 1px solid var(--line); background: #fff; font: inherit; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { background: #fff; border-color: #fca5a5; color: #b91c1c; }
.table { width: 100%; border-collapse: collapse; font-size: 12px; }
.table th, .table td { text-align: left; padding: 6px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
.table th { color: var(--muted); font-weight: 600; }
.msg { color: var(--muted); font-size: 12px; margin: 6px 0; }
.err { color: #b91c1c; }
.pill { display: inline-block; padding: 1px 6px; border-radius: 10px; background: #eef1f5; font-size: 11px; }
.pill.active { background: #dcfce7; color: #166534; } .pill.verify-only { background: #fef9c3; color: #854d0e; } .pill.retired { background: #f3f4f6; color: #6b7280; }
.login { max-width: 380px; margin: 12vh auto; }
.login form { display: flex; flex-direction: column; gap: 10px; }
@media (max-width: 900px) {
  .span-3, .span-4, .span-5, .span-6, .span-7, .span-8, .span-9 { grid-column: span 12; }
}
@media (max-width: 600px) {
  main { padding: 8px; gap: 8px; }
  .charts { grid-template-columns: minmax(0, 1fr); }
  .devices { grid-template-columns: minmax(0, 1fr); }
  .table thead { display: none; }
  .table, .table tbody, .table tr, .table td { display: block; width: 100%; }
  .table tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  .table td { border: 0; padding: 2px 0; }
  .table td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
.bar-created { fill: var(--created); } .bar-renewed { fill: var(--renewed); } .bar-revoked { fill: var(--revoked); }
.bar-rejected { fill: var(--rejected); } .bar-expired { fill: var(--expired); }
`;

const APP_JS = String.raw`// The live dashboard: reads /v1/stats, follows /v1/events (Server-Sent Events), searches a user's
// devices and revokes them. Every value from the server is shown with textContent, never as HTML.
(function () {
  'use strict';
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var SERIES = [['created', 'Created'], ['renewed', 'Renewed'], ['revoked', 'Revoked'], ['rejected', 'Rejected']];
  var FEED_MAX = 60;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function api(method, url) {
    var headers = { accept: 'application/json' };
    if (method !== 'GET') headers['x-csrf-token'] = csrf;
    return fetch(url, { method: method, headers: headers, credentials: 'same-origin' }).then(function (res) {
      if (res.status === 401) { window.location.assign('/dashboard'); throw new Error('signed out'); }
      if (res.status === 204) return null;
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body && body.message ? body.message : 'HTTP ' + res.status);
        return body;
      });
    });
  }

  function time(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? '-' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? '-' : d.toLocaleString();
  }
  function duration(ms) {
    if (typeof ms !== 'number') return '-';
    var s = Math.round(ms / 1000);
    if (s % 86400 === 0 && s >= 86400) return (s / 86400) + 'd';
    if (s % 3600 === 0 && s >= 3600) return (s / 3600) + 'h';
    if (s % 60 === 0 && s >= 60) return (s / 60) + 'm';
    return s + 's';
  }
  function short(id) { return id ? String(id).slice(0, 10) + '\u2026' : '-'; }

  // ---- charts (inline SVG) ----
  var SVG = 'http://www.w3.org/2000/svg';
  function drawChart(name, values) {
    var svg = $('chart-' + name);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var w = 300, h = 70, n = values.length, max = 1;
    values.forEach(function (v) { if (v > max) max = v; });
    var bw = w / n;
    values.forEach(function (v, i) {
      if (v <= 0) return;
      var bh = Math.max(2, (v / max) * (h - 6));
      var r = document.createElementNS(SVG, 'rect');
      r.setAttribute('x', String(i * bw + 0.5));
      r.setAttribute('y', String(h - bh));
      r.setAttribute('width', String(Math.max(1, bw - 1)));
      r.setAttribute('height', String(bh));
      r.setAttribute('class', 'bar-' + name);
      var title = document.createElementNS(SVG, 'title');
      title.textContent = v + ' in minute ' + (i - n + 1);
      r.appendChild(title);
      svg.appendChild(r);
    });
    var total = values.reduce(function (a, b) { return a + b; }, 0);
    $('total-' + name).textContent = total + ' / h';
  }

  function drawBars(id, counts) {
    var list = $(id);
    while (list.firstChild) list.removeChild(list.firstChild);
    var entries = Object.keys(counts).map(function (k) { return [k, counts[k]]; }).sort(function (a, b) { return b[1] - a[1]; }).slice(0, 8);
    if (entries.length === 0) { list.appendChild(el('li', { class: 'msg' }, 'none')); return; }
    var max = entries[0][1] || 1;
    entries.forEach(function (e) {
      var li = el('li');
      li.appendChild(el('span', { class: 'label' }, e[0]));
      li.appendChild(el('span', { class: 'n' }, e[1]));
      var track = el('span', { class: 'track' });
      var fill = el('span', { class: 'fill' });
      fill.style.display = 'block';
      fill.style.width = Math.round((e[1] / max) * 100) + '%';
      track.appendChild(fill);
      li.appendChild(track);
      list.appendChild(li);
    });
  }

  function drawKeys(keys) {
    var body = $('keys');
    while (body.firstChild) body.removeChild(body.firstChild);
    if (keys.length === 0) { var tr0 = el('tr'); tr0.appendChild(el('td', { colspan: '5' }, 'no signing keys yet')); body.appendChild(tr0); return; }
    keys.forEach(function (k) {
      var tr = el('tr');
      tr.appendChild(el('td', { 'data-label': 'kid' }, k.kid));
      tr.appendChild(el('td', { 'data-label': 'alg' }, k.alg));
      var state = el('td', { 'data-label': 'state' });
      state.appendChild(el('span', { class: 'pill ' + k.state }, k.state));
      tr.appendChild(state);
      tr.appendChild(el('td', { 'data-label': 'created' }, when(k.createdAt)));
      tr.appendChild(el('td', { 'data-label': 'retires' }, k.retiresAt ? when(k.retiresAt) : '-'));
      body.appendChild(tr);
    });
  }

  var lastSeq = null;
  var statsTimer = null;
  var statsBusy = false;
  var statsAgain = false;
  function loadStats() {
    // One request at a time; a change noticed meanwhile asks again as soon as it is answered.
    if (statsBusy) { statsAgain = true; return Promise.resolve(); }
    statsBusy = true;
    return api('GET', '/v1/stats').then(function (s) {
      $('active-count').textContent = String(s.activeSessions);
      $('active-note').textContent = s.complete ? 'live now' : 'live now (at least: the audit trail does not reach back far enough)';
      SERIES.forEach(function (pair) { drawChart(pair[0], s.perMinute.series[pair[0]]); });
      drawBars('dev-type', s.devices.type);
      drawBars('dev-browser', s.devices.browser);
      drawBars('dev-os', s.devices.os);
      drawKeys(s.signingKeys);
      $('updated').textContent = 'updated ' + time(s.at);
      if (lastSeq === null) { lastSeq = s.lastSeq; startEvents(); }
    }).catch(function (err) {
      $('updated').textContent = 'stats unavailable: ' + err.message;
    }).then(function () {
      statsBusy = false;
      if (statsAgain) { statsAgain = false; statsSoon(); }
    });
  }
  function statsSoon() {
    if (statsTimer) return;
    statsTimer = setTimeout(function () { statsTimer = null; loadStats(); }, 250);
  }

  // ---- live feed ----
  function addEvent(e) {
    var feed = $('feed');
    var li = el('li', { 'data-seq': String(e.seq), 'data-type': e.type });
    li.appendChild(el('span', { class: 't' }, time(e.at)));
    var right = el('span');
    right.appendChild(el('span', { class: 'ty ' + String(e.type).replace(/[^a-z]+/g, '-') }, e.type));
    var parts = [];
    if (e.userId !== null) parts.push('user ' + e.userId);
    if (e.sessionId !== null) parts.push('session ' + short(e.sessionId));
    if (e.reason !== null) parts.push(e.reason + (e.detail ? ' (' + e.detail + ')' : ''));
    if (e.ip !== null) parts.push(e.ip);
    if (e.actor !== null) parts.push('by ' + e.actor);
    right.appendChild(el('div', { class: 'd' }, parts.join(' \u00b7 ')));
    li.appendChild(right);
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
  }

  var source = null;
  function setStatus(state, text) {
    $('live-dot').className = 'status ' + state;
    $('live-text').textContent = text;
  }
  function startEvents() {
    var from = Math.max(0, lastSeq - 20);
    source = new EventSource('/v1/events?lastEventId=' + from);
    source.onopen = function () { setStatus('live', 'live'); };
    source.onmessage = function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      addEvent(e);
      if (e.seq > lastSeq) { lastSeq = e.seq; statsSoon(); }
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        setStatus('down', 'disconnected');
        // Closed for good (signed out, or the service refused): check the sign-in, then retry.
        setTimeout(function () { api('GET', '/v1/stats').then(function () { startEvents(); }, function () {}); }, 3000);
      } else {
        setStatus('down', 'reconnecting');
      }
    };
  }

  // ---- user search ----
  var shownUser = null;
  function showUser(userId) {
    shownUser = userId;
    var body = $('user-sessions');
    $('search-msg').textContent = 'loading\u2026';
    return api('GET', '/dashboard/api/users/' + encodeURIComponent(userId) + '/sessions').then(function (r) {
      while (body.firstChild) body.removeChild(body.firstChild);
      $('search-msg').textContent = r.sessions.length + ' live session' + (r.sessions.length === 1 ? '' : 's') + ' of ' + userId;
      $('logout-all').hidden = r.sessions.length === 0;
      r.sessions.forEach(function (s) {
        var tr = el('tr', { 'data-session': s.id });
        var d = s.device || {};
        tr.appendChild(el('td', { 'data-label': 'device' }, [d.browser || 'unknown browser', d.os || 'unknown OS', d.type].join(' \u00b7 ') + (d.label ? ' (' + d.label + ')' : '')));
        tr.appendChild(el('td', { 'data-label': 'ip' }, d.ip || '-'));
        tr.appendChild(el('td', { 'data-label': 'created' }, when(s.createdAt)));
        tr.appendChild(el('td', { 'data-label': 'last seen' }, when(s.lastSeenAt)));
        tr.appendChild(el('td', { 'data-label': 'timeouts', class: 'timeouts' }, 'idle ' + duration(s.idleTimeout) + ', absolute ' + duration(s.absoluteTimeout) + ' \u00b7 ' + (s.policy ? 'role ' + s.policy : 'default policy')));
        tr.appendChild(el('td', { 'data-label': 'expires' }, when(s.idleExpiresAt < s.absoluteExpiresAt ? s.idleExpiresAt : s.absoluteExpiresAt)));
        var actions = el('td');
        var b = el('button', { class: 'danger revoke', type: 'button' }, 'Revoke');
        b.addEventListener('click', function () {
          b.disabled = true;
          api('DELETE', '/dashboard/api/sessions/' + encodeURIComponent(s.id)).then(function () { return showUser(userId); })
            .catch(function (err) { b.disabled = false; $('search-msg').textContent = 'revoke failed: ' + err.message; });
        });
        actions.appendChild(b);
        tr.appendChild(actions);
        body.appendChild(tr);
      });
    }).catch(function (err) { $('search-msg').textContent = 'search failed: ' + err.message; });
  }

  $('search-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var userId = $('search-user').value.trim();
    if (userId) showUser(userId);
  });
  $('logout-all').addEventListener('click', function () {
    if (!shownUser) return;
    var user = shownUser;
    api('DELETE', '/dashboard/api/users/' + encodeURIComponent(user) + '/sessions').then(function (r) {
      return showUser(user).then(function () { $('search-msg').textContent = r.revoked + ' session' + (r.revoked === 1 ? '' : 's') + ' of ' + user + ' revoked'; });
    }).catch(function (err) { $('search-msg').textContent = 'failed: ' + err.message; });
  });
  $('signout').addEventListener('click', function () {
    api('POST', '/dashboard/logout').catch(function () {}).then(function () { window.location.assign('/dashboard'); });
  });

  loadStats();
  setInterval(loadStats, 10000);
})();
`;

const LOGIN_JS = String.raw`// Sign-in: the admin API key goes once to POST /dashboard/login (X-API-Key); the answer is an
// HttpOnly dashboard cookie, so the page never keeps the key.
(function () {
  'use strict';
  var form = document.getElementById('login-form');
  var msg = document.getElementById('login-msg');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = document.getElementById('api-key').value.trim();
    if (!key) { msg.textContent = 'Enter an admin API key.'; return; }
    msg.textContent = 'Signing in\u2026';
    fetch('/dashboard/login', { method: 'POST', headers: { 'x-api-key': key }, credentials: 'same-origin' }).then(function (res) {
      document.getElementById('api-key').value = '';
      if (res.ok) { window.location.assign('/dashboard'); return; }
      return res.json().then(function (body) {
        msg.textContent = res.status === 401 || res.status === 403
          ? 'That key was refused: it must be a valid API key with the admin scope.'
          : (body && body.message) || 'Sign-in failed (HTTP ' + res.status + ').';
        msg.className = 'msg err';
      });
    }).catch(function () { msg.textContent = 'The service did not answer.'; msg.className = 'msg err'; });
  });
})();
`;


function asset(type: string, body: string): { type: string; body: string; etag: string } {
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * The files under `/dashboard/assets/`, by name, with their media type and an ETag.
 *
 * @example reply.type(ASSETS['app.js'].type).send(ASSETS['app.js'].body)
 */
export const ASSETS = {
  'app.css': asset('text/css; charset=utf-8', APP_CSS),
  'app.js': asset('text/javascript; charset=utf-8', APP_JS),
  'login.js': asset('text/javascript; charset=utf-8', LOGIN_JS),
} as const;

export type AssetName = keyof typeof ASSETS;
