// @ts-check
// The live dashboard: reads /v1/stats, follows /v1/events (Server-Sent Events), searches a user's
// devices and revokes them. Every value from the server is shown with textContent, never as HTML.
// A classic script (no modules, no build step): the service serves this file as it is.
(() => {
  'use strict';

  /**
   * @typedef {{ kid: string, alg: string, state: string, createdAt: string, retiresAt: string | null }} SigningKey
   * @typedef {'created' | 'renewed' | 'revoked' | 'rejected'} SeriesName
   * @typedef {{
   *   at: string, activeSessions: number, complete: boolean, lastSeq: number,
   *   perMinute: { series: Record<SeriesName, number[]> },
   *   devices: { type: Record<string, number>, browser: Record<string, number>, os: Record<string, number> },
   *   signingKeys: SigningKey[],
   * }} Stats
   * @typedef {{ seq: number, type: string, at: string, userId: string | null, sessionId: string | null,
   *   reason: string | null, detail?: string | null, ip: string | null, actor: string | null }} AuditEvent
   * @typedef {{ browser: string | null, os: string | null, type: string, label: string | null, ip: string | null }} Device
   * @typedef {{ id: string, createdAt: string, lastSeenAt: string, idleExpiresAt: string, absoluteExpiresAt: string,
   *   idleTimeout: number, absoluteTimeout: number, policy: string | null, device: Device | null }} SessionJson
   */

  /** @type {SeriesName[]} */
  const SERIES = ['created', 'renewed', 'revoked', 'rejected'];
  const FEED_MAX = 60;

  /**
   * The element with this id; the page always has it, so a missing one is a bug worth an error.
   * @param {string} id
   * @returns {HTMLElement}
   */
  function $(id) {
    const node = document.getElementById(id);
    if (!node) throw new Error(`the page has no #${id}`);
    return node;
  }

  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

  /**
   * @param {string} tag
   * @param {Record<string, string>} [attrs]
   * @param {string | number | null} [text]
   * @returns {HTMLElement}
   */
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** @param {Node} node */
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /**
   * A call to the service with the dashboard cookie (and the CSRF token on writes). A 401 means the
   * sign-in ended: back to the sign-in form.
   * @param {string} method
   * @param {string} url
   * @returns {Promise<any>}
   */
  async function api(method, url) {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json' };
    if (method !== 'GET') headers['x-csrf-token'] = csrf;
    const res = await fetch(url, { method, headers, credentials: 'same-origin' });
    if (res.status === 401) {
      window.location.assign('/dashboard');
      throw new Error('signed out');
    }
    if (res.status === 204) return null;
    const body = await res.json();
    if (!res.ok) throw new Error(body && body.message ? body.message : `HTTP ${res.status}`);
    return body;
  }

  /** @param {unknown} err */
  const message = (err) => (err instanceof Error ? err.message : String(err));

  /** @param {string} iso */
  function time(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '-' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  /** @param {string} iso */
  function when(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '-' : d.toLocaleString();
  }
  /** @param {unknown} ms */
  function duration(ms) {
    if (typeof ms !== 'number') return '-';
    const s = Math.round(ms / 1000);
    if (s % 86400 === 0 && s >= 86400) return `${s / 86400}d`;
    if (s % 3600 === 0 && s >= 3600) return `${s / 3600}h`;
    if (s % 60 === 0 && s >= 60) return `${s / 60}m`;
    return `${s}s`;
  }
  /** @param {string | null} id */
  const short = (id) => (id ? `${String(id).slice(0, 10)}\u2026` : '-');

  // ---- charts (inline SVG) ----
  const SVG = 'http://www.w3.org/2000/svg';
  /**
   * @param {SeriesName} name
   * @param {number[]} values
   */
  function drawChart(name, values) {
    const svg = $(`chart-${name}`);
    clear(svg);
    const w = 300;
    const h = 70;
    const n = values.length;
    const max = Math.max(1, ...values);
    const bw = w / n;
    values.forEach((v, i) => {
      if (v <= 0) return;
      const bh = Math.max(2, (v / max) * (h - 6));
      const r = document.createElementNS(SVG, 'rect');
      r.setAttribute('x', String(i * bw + 0.5));
      r.setAttribute('y', String(h - bh));
      r.setAttribute('width', String(Math.max(1, bw - 1)));
      r.setAttribute('height', String(bh));
      r.setAttribute('class', `bar-${name}`);
      const title = document.createElementNS(SVG, 'title');
      title.textContent = `${v} in minute ${i - n + 1}`;
      r.appendChild(title);
      svg.appendChild(r);
    });
    const total = values.reduce((a, b) => a + b, 0);
    $(`total-${name}`).textContent = `${total} / h`;
  }

  /**
   * @param {string} id
   * @param {Record<string, number>} counts
   */
  function drawBars(id, counts) {
    const list = $(id);
    clear(list);
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 8);
    if (entries.length === 0) {
      list.appendChild(el('li', { class: 'msg' }, 'none'));
      return;
    }
    const max = entries[0]?.[1] || 1;
    for (const [label, n] of entries) {
      const li = el('li');
      li.appendChild(el('span', { class: 'label' }, label));
      li.appendChild(el('span', { class: 'n' }, n));
      const track = el('span', { class: 'track' });
      const fill = el('span', { class: 'fill' });
      fill.style.display = 'block';
      fill.style.width = `${Math.round((n / max) * 100)}%`;
      track.appendChild(fill);
      li.appendChild(track);
      list.appendChild(li);
    }
  }

  /** @param {SigningKey[]} keys */
  function drawKeys(keys) {
    const body = $('keys');
    clear(body);
    if (keys.length === 0) {
      const tr = el('tr');
      tr.appendChild(el('td', { colspan: '5' }, 'no signing keys yet'));
      body.appendChild(tr);
      return;
    }
    for (const k of keys) {
      const tr = el('tr');
      tr.appendChild(el('td', { 'data-label': 'kid', class: 'nowrap' }, k.kid));
      tr.appendChild(el('td', { 'data-label': 'alg' }, k.alg));
      const state = el('td', { 'data-label': 'state' });
      state.appendChild(el('span', { class: `pill ${k.state}` }, k.state));
      tr.appendChild(state);
      tr.appendChild(el('td', { 'data-label': 'created', class: 'time' }, when(k.createdAt)));
      tr.appendChild(el('td', { 'data-label': 'retires', class: 'time' }, k.retiresAt ? when(k.retiresAt) : '-'));
      body.appendChild(tr);
    }
  }

  /** @type {number | null} */
  let lastSeq = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let statsTimer = null;
  let statsBusy = false;
  let statsAgain = false;
  async function loadStats() {
    // One request at a time; a change noticed meanwhile asks again as soon as it is answered.
    if (statsBusy) {
      statsAgain = true;
      return;
    }
    statsBusy = true;
    try {
      /** @type {Stats} */
      const s = await api('GET', '/v1/stats');
      $('active-count').textContent = String(s.activeSessions);
      $('active-note').textContent = s.complete ? 'live now' : 'live now (at least: the audit trail does not reach back far enough)';
      for (const name of SERIES) drawChart(name, s.perMinute.series[name]);
      drawBars('dev-type', s.devices.type);
      drawBars('dev-browser', s.devices.browser);
      drawBars('dev-os', s.devices.os);
      drawKeys(s.signingKeys);
      $('updated').textContent = `updated ${time(s.at)}`;
      if (lastSeq === null) {
        lastSeq = s.lastSeq;
        startEvents(lastSeq);
      }
    } catch (err) {
      $('updated').textContent = `stats unavailable: ${message(err)}`;
    }
    statsBusy = false;
    if (statsAgain) {
      statsAgain = false;
      statsSoon();
    }
  }
  function statsSoon() {
    if (statsTimer) return;
    statsTimer = setTimeout(() => {
      statsTimer = null;
      void loadStats();
    }, 250);
  }

  // ---- live feed ----
  /** @param {AuditEvent} e */
  function addEvent(e) {
    const feed = $('feed');
    const li = el('li', { 'data-seq': String(e.seq), 'data-type': e.type });
    li.appendChild(el('span', { class: 't' }, time(e.at)));
    const right = el('span');
    right.appendChild(el('span', { class: `ty ${String(e.type).replace(/[^a-z]+/g, '-')}` }, e.type));
    const parts = [];
    if (e.userId !== null) parts.push(`user ${e.userId}`);
    if (e.sessionId !== null) parts.push(`session ${short(e.sessionId)}`);
    if (e.reason !== null) parts.push(e.reason + (e.detail ? ` (${e.detail})` : ''));
    if (e.ip !== null) parts.push(e.ip);
    if (e.actor !== null) parts.push(`by ${e.actor}`);
    right.appendChild(el('div', { class: 'd' }, parts.join(' \u00b7 ')));
    li.appendChild(right);
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > FEED_MAX && feed.lastChild) feed.removeChild(feed.lastChild);
  }

  /**
   * @param {'live' | 'down'} state
   * @param {string} text
   */
  function setStatus(state, text) {
    $('live-dot').className = `status ${state}`;
    $('live-text').textContent = text;
  }
  /** @param {number} since */
  function startEvents(since) {
    const source = new EventSource(`/v1/events?lastEventId=${Math.max(0, since - 20)}`);
    source.onopen = () => setStatus('live', 'live');
    source.onmessage = (m) => {
      /** @type {AuditEvent} */
      let e;
      try {
        e = JSON.parse(m.data);
      } catch {
        return;
      }
      addEvent(e);
      if (lastSeq === null || e.seq > lastSeq) {
        lastSeq = e.seq;
        statsSoon();
      }
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        setStatus('down', 'disconnected');
        // Closed for good (signed out, or the service refused): check the sign-in, then retry.
        setTimeout(() => {
          api('GET', '/v1/stats').then(() => startEvents(lastSeq ?? 0), () => {});
        }, 3000);
      } else {
        setStatus('down', 'reconnecting');
      }
    };
  }

  // ---- user search ----
  /** @type {string | null} */
  let shownUser = null;
  /** @param {string} userId */
  async function showUser(userId) {
    shownUser = userId;
    const body = $('user-sessions');
    $('search-msg').textContent = 'loading\u2026';
    try {
      /** @type {{ sessions: SessionJson[] }} */
      const r = await api('GET', `/dashboard/api/users/${encodeURIComponent(userId)}/sessions`);
      clear(body);
      $('search-msg').textContent = `${r.sessions.length} live session${r.sessions.length === 1 ? '' : 's'} of ${userId}`;
      $('logout-all').hidden = r.sessions.length === 0;
      for (const s of r.sessions) body.appendChild(sessionRow(userId, s));
    } catch (err) {
      $('search-msg').textContent = `search failed: ${message(err)}`;
    }
  }

  /**
   * @param {string} userId
   * @param {SessionJson} s
   */
  function sessionRow(userId, s) {
    const tr = el('tr', { 'data-session': s.id });
    const d = s.device;
    const device = [d?.browser || 'unknown browser', d?.os || 'unknown OS', d?.type ?? 'unknown'].join(' \u00b7 ') + (d?.label ? ` (${d.label})` : '');
    tr.appendChild(el('td', { 'data-label': 'device' }, device));
    tr.appendChild(el('td', { 'data-label': 'ip', class: 'nowrap' }, d?.ip || '-'));
    tr.appendChild(el('td', { 'data-label': 'created', class: 'time' }, when(s.createdAt)));
    tr.appendChild(el('td', { 'data-label': 'last seen', class: 'time' }, when(s.lastSeenAt)));
    const policy = s.policy ? `role ${s.policy}` : 'default policy';
    tr.appendChild(el('td', { 'data-label': 'timeouts', class: 'timeouts' }, `idle ${duration(s.idleTimeout)}, absolute ${duration(s.absoluteTimeout)} \u00b7 ${policy}`));
    tr.appendChild(el('td', { 'data-label': 'expires', class: 'time' }, when(s.idleExpiresAt < s.absoluteExpiresAt ? s.idleExpiresAt : s.absoluteExpiresAt)));
    const actions = el('td', { class: 'actions' });
    const b = /** @type {HTMLButtonElement} */ (el('button', { class: 'danger revoke', type: 'button' }, 'Revoke'));
    b.addEventListener('click', async () => {
      // A revocation cannot be undone: ask first, naming whose session on which device.
      if (!window.confirm(`Revoke the session of ${userId} on ${device}? Its token stops working at once.`)) return;
      b.disabled = true;
      try {
        await api('DELETE', `/dashboard/api/sessions/${encodeURIComponent(s.id)}`);
        await showUser(userId);
      } catch (err) {
        b.disabled = false;
        $('search-msg').textContent = `revoke failed: ${message(err)}`;
      }
    });
    actions.appendChild(b);
    tr.appendChild(actions);
    return tr;
  }

  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const userId = /** @type {HTMLInputElement} */ ($('search-user')).value.trim();
    if (userId) void showUser(userId);
  });
  $('logout-all').addEventListener('click', async () => {
    if (!shownUser) return;
    const user = shownUser;
    const button = /** @type {HTMLButtonElement} */ ($('logout-all'));
    const live = $('user-sessions').querySelectorAll('tr[data-session]').length;
    if (!window.confirm(`Log ${user} out everywhere? Their ${live} live session${live === 1 ? '' : 's'} end${live === 1 ? 's' : ''} at once.`)) return;
    button.disabled = true;
    try {
      /** @type {{ revoked: number }} */
      const r = await api('DELETE', `/dashboard/api/users/${encodeURIComponent(user)}/sessions`);
      await showUser(user);
      $('search-msg').textContent = `${r.revoked} session${r.revoked === 1 ? '' : 's'} of ${user} revoked`;
    } catch (err) {
      $('search-msg').textContent = `failed: ${message(err)}`;
    }
    button.disabled = false;
  });
  $('signout').addEventListener('click', () => {
    api('POST', '/dashboard/logout').catch(() => {}).then(() => window.location.assign('/dashboard'));
  });

  void loadStats();
  setInterval(loadStats, 10000);
})();
