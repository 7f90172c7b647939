/*! storepulse tracker, MIT. <script async src="https://HOST/sp.js" data-key="WRITE_KEY"></script>
 * Options (data-*): endpoint, cookies="true" (keep a visitor id in localStorage), respect-dnt="true".
 * Plain ES2017 with no build step: shops' visitors run old browsers, so no ?., ??, catch {} or Object.hasOwn. */
/* biome-ignore-all lint/complexity/useOptionalChain: ?. is ES2020; this file targets ES2017 */
(() => {
  const w = window;
  const d = document;
  const nav = navigator;
  const stub = w.storepulse;
  if (stub && stub.loaded) return; // the snippet was pasted twice
  const script = d.currentScript || d.querySelector('script[src*="/sp.js"][data-key]');
  const opt = (script && script.dataset) || {};
  if (!opt.key) return console.warn('storepulse: add data-key="<write key>" to the sp.js script tag');
  const endpoint = (opt.endpoint || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  const url = `${endpoint}/api/v1/events?k=${encodeURIComponent(opt.key)}&src=js`;
  const BATCH = 20;
  const DELAY = 1000;
  const CAP = 100;
  const SESSION_MS = 30 * 60 * 1000;
  const OUTBOX = 'sp_outbox';
  // Sent top-level; anything else passed to track() goes into props (the server refuses unknown fields).
  const WIRE =
    'event_id time user_id session_id visitor_id product_id category_id category_code brand price quantity currency order_id revenue url referrer'.split(
      ' ',
    );
  const NUMERIC = ['price', 'quantity', 'revenue'];

  if (opt.respectDnt === 'true' && (nav.doNotTrack === '1' || w.doNotTrack === '1')) {
    w.storepulse = () => {};
    w.storepulse.loaded = true;
    return;
  }

  // Storage throws when disabled, in some private modes, or over quota: tracking goes on without it.
  const attempt = (f) => {
    try {
      return f();
    } catch (_e) {
      return null;
    }
  };
  const uuid = () => {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
    const b = new Uint8Array(16);
    if (w.crypto) crypto.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.random() * 256;
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };

  let session = null;
  const sessionId = (now) => {
    session = attempt(() => JSON.parse(sessionStorage.getItem('sp_session'))) || session;
    if (!session || now - session.t > SESSION_MS) session = { id: uuid() };
    session.t = now;
    attempt(() => sessionStorage.setItem('sp_session', JSON.stringify(session)));
    return session.id;
  };
  const visitorId =
    opt.cookies === 'true' &&
    attempt(() => {
      const v = localStorage.getItem('sp_visitor') || uuid();
      localStorage.setItem('sp_visitor', v);
      return v;
    });
  let userId = attempt(() => sessionStorage.getItem('sp_user'));
  let referrer = d.referrer;
  let lastPage = null;

  // Events whose send failed wait in `waiting` and in localStorage (so a later page load sends them);
  // their ids make every resend idempotent on the server.
  let queue = [];
  let waiting = [];
  let timer = null;
  let retryTimer = null;
  let failures = 0;
  const outbox = () => attempt(() => JSON.parse(localStorage.getItem(OUTBOX))) || [];
  const saveOutbox = (list) =>
    attempt(() =>
      list.length
        ? localStorage.setItem(OUTBOX, JSON.stringify(list.slice(-CAP)))
        : localStorage.removeItem(OUTBOX),
    );
  const ids = (list) => list.map((e) => e.event_id);
  const remember = (batch) => {
    const have = outbox();
    const known = ids(have);
    saveOutbox(have.concat(batch.filter((e) => known.indexOf(e.event_id) < 0)));
  };
  const forget = (batch) => {
    const have = outbox();
    const gone = ids(batch);
    if (have.length) saveOutbox(have.filter((e) => gone.indexOf(e.event_id) < 0));
  };

  const failed = (batch) => {
    remember(batch);
    waiting = waiting.concat(batch).slice(-CAP);
    if (retryTimer) return;
    const delay = Math.min(60000, 1000 * 2 ** failures++) * (0.5 + Math.random());
    retryTimer = setTimeout(() => {
      retryTimer = null;
      flush();
    }, delay);
  };

  const send = (batch) => {
    // text/plain needs no CORS preflight; the server reads it as JSON.
    const body = new Blob([JSON.stringify({ events: batch })], { type: 'text/plain' });
    const small = body.size < 60000; // beacons and keepalive fetches share a 64 KiB budget
    // A beacon survives the page closing but reports no status, so it is used only when the page is
    // going away; while the page lives, fetch tells us whether the server stored the batch, and failures are retried.
    const closing = d.visibilityState === 'hidden';
    if (closing && nav.sendBeacon && small && attempt(() => nav.sendBeacon(url, body))) return forget(batch);
    if (!w.fetch) return failed(batch);
    const init = { method: 'POST', body, mode: 'cors', credentials: 'omit', keepalive: small };
    fetch(url, init).then(
      (res) => {
        if (res.status >= 500 || res.status === 429) return failed(batch);
        failures = 0;
        forget(batch); // other refusals will not change on retry; the server keeps them with a reason
        if (!res.ok) res.text().then((t) => console.warn(`storepulse: events refused (${res.status}) ${t}`));
      },
      () => failed(batch),
    );
  };

  const flush = () => {
    clearTimeout(timer);
    timer = null;
    if (waiting.length && !retryTimer) {
      queue = waiting.concat(queue);
      waiting = [];
    }
    while (queue.length) send(queue.splice(0, BATCH));
  };

  const enqueue = (e) => {
    queue.push(e);
    if (queue.length > CAP) queue.shift();
    if (queue.length >= BATCH) flush();
    else if (!timer) timer = setTimeout(flush, DELAY);
  };

  const event = (type, props) => {
    const now = Date.now();
    const e = { type, event_id: uuid(), time: now, url: location.href, session_id: sessionId(now) };
    if (referrer) e.referrer = referrer;
    if (visitorId) e.visitor_id = visitorId;
    if (userId) e.user_id = userId;
    const rest = {};
    for (const k of Object.keys(props || {})) {
      let v = props[k];
      if (v === undefined) continue;
      if (WIRE.indexOf(k) < 0) rest[k] = v;
      else {
        if (NUMERIC.indexOf(k) >= 0 && typeof v === 'string' && v.trim() !== '' && !Number.isNaN(+v)) v = +v;
        e[k] = v;
      }
    }
    if (Object.keys(rest).length) e.props = rest;
    enqueue(e);
  };

  const page = () => {
    const here = location.href.split('#')[0];
    if (lastPage !== null) {
      if (here === lastPage) return; // replaceState on the same page (scroll state, query sync) is no new view
      referrer = lastPage;
    }
    lastPage = here;
    event('page_view');
  };

  const commands = {
    track: (name, props) => {
      if (typeof name !== 'string' || !name) return console.warn('storepulse: track needs an event name');
      event(name, props);
    },
    identify: (id, traits) => {
      userId = id === null || id === undefined || id === '' ? null : String(id);
      attempt(() =>
        userId ? sessionStorage.setItem('sp_user', userId) : sessionStorage.removeItem('sp_user'),
      );
      if (userId) event('identify', traits ? { traits } : null);
    },
    page: () => {
      lastPage = null; // an explicit call always counts
      page();
    },
    flush,
  };

  const storepulse = (cmd, ...args) => {
    if (Object.keys(commands).indexOf(cmd) < 0) return console.warn(`storepulse: unknown command "${cmd}"`);
    try {
      commands[cmd](...args);
    } catch (err) {
      console.warn('storepulse:', err);
    }
  };
  storepulse.loaded = true;
  w.storepulse = storepulse;

  for (const m of ['pushState', 'replaceState']) {
    const original = history[m];
    history[m] = function (...args) {
      const r = original.apply(this, args);
      page();
      return r;
    };
  }
  w.addEventListener('popstate', page);
  d.addEventListener('visibilitychange', () => d.visibilityState === 'hidden' && flush());
  w.addEventListener('pagehide', flush);

  // Events an earlier page could not deliver go first; of the calls queued before load, identify runs before the
  // automatic page view so that it already carries the user id.
  queue = outbox();
  const leftovers = queue.length;
  const early = Array.from((stub && stub.q) || [], (args) => Array.from(args));
  for (const args of early) if (args[0] === 'identify') storepulse(...args);
  const start = () => {
    page();
    for (const args of early) if (args[0] !== 'identify') storepulse(...args);
    if (leftovers) flush(); // an earlier page's events have waited long enough
  };
  if (d.prerendering) d.addEventListener('prerenderingchange', start, { once: true });
  else start();
})();
