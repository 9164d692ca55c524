// The console's shell: sign-in with an API token (sessionStorage), the navigation, the live connection and a
// hash router that mounts one view at a time. A view is {title, mount(root, ctx) -> cleanup}; ctx carries the
// signed-in identity and the live event bus.
import { token, session, whenUnauthorized } from './api.js';
import { Bus } from './bus.js';
import { $, $$, html, render, problemText } from './dom.js';
import pools from './views/pools.js';
import queues from './views/queues.js';
import jobs from './views/jobs.js';
import job from './views/job.js';
import submit from './views/submit.js';
import scaling from './views/scaling.js';
import cost from './views/cost.js';
import alerts from './views/alerts.js';

const VIEWS = { pools, queues, jobs, job, submit, scaling, cost, alerts };
const ROLE_RANK = { viewer: 0, submitter: 1, 'tenant-admin': 2, admin: 3 };

// kept for the browser test: the page must never need what its Content-Security-Policy refuses
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));

const state = { who: null, bus: null, cleanup: null, firstViewMarked: false };
// the live connection, for the browser test (it cuts the connection to check the reconnect)
window.hodeiConsole = { bus: () => state.bus };

/** The first view with its data on screen: the console's "interactive" moment, measured from navigation start. */
function firstViewReady() {
  if (state.firstViewMarked) return;
  state.firstViewMarked = true;
  performance.mark('hodei-first-view');
  const ms = Math.round(performance.getEntriesByName('hodei-first-view')[0].startTime);
  document.body.dataset.firstViewMs = String(ms);
}

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, queryString] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(queryString || ''));
  if (parts[0] === 'jobs' && parts[1]) return { view: 'job', id: parts[1], params };
  if (parts[0] === 'scaling' && parts[1]) return { view: 'scaling', id: parts[1], params };
  return { view: VIEWS[parts[0]] ? parts[0] : 'pools', params };
}

function may(role) { return ROLE_RANK[state.who.role] >= ROLE_RANK[role]; }

async function show() {
  if (!state.who) return;
  const route = parseRoute();
  const view = VIEWS[route.view];
  if (state.cleanup) { try { state.cleanup(); } catch (e) { console.error(e); } }
  state.cleanup = null;
  const main = $('#main');
  for (const a of $$('#nav a')) {
    const current = a.dataset.view === route.view || (route.view === 'job' && a.dataset.view === 'jobs');
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${view.title} · Hodei Pools`;
  $('#toast').classList.remove('show');
  // each view draws into its own element: a late answer of a view that was left lands in a detached node
  const root = document.createElement('div');
  root.className = 'view';
  main.replaceChildren(root);
  render(root, html`<p class="muted">Loading…</p>`);
  const ctx = {
    who: state.who, bus: state.bus, route, may, isAdmin: state.who.role === 'admin', ready: firstViewReady,
  };
  try {
    const cleanup = await view.mount(root, ctx);
    if (root.isConnected) state.cleanup = cleanup; else if (cleanup) cleanup();
  } catch (err) {
    render(root, html`<h1>${view.title}</h1><p class="error" role="alert">${problemText(err)}</p>`);
  }
}

function signedIn(who, secret) {
  state.who = who;
  $('#nav').hidden = false;
  $('#who').hidden = false;
  $$('#nav [data-needs]').forEach(li => { li.hidden = !may(li.dataset.needs); });
  $('#identity').textContent = who.tenant_id ? `${who.role} · ${who.tenant_id}` : who.role;
  state.bus = new Bus(secret);
  state.bus.on('status', ({ status }) => {
    const el = $('#live');
    el.textContent = status === 'live' ? 'live' : status;
    el.className = `live ${status}`;
  });
  state.bus.connect();
  show();
}

function signOut(message) {
  token.clear();
  if (state.bus) state.bus.close();
  if (state.cleanup) state.cleanup();
  Object.assign(state, { who: null, bus: null, cleanup: null });
  $('#nav').hidden = true;
  $('#who').hidden = true;
  login(message);
}

function login(message) {
  document.title = 'Sign in · Hodei Pools';
  render($('#main'), html`
    <section class="login">
      <h1>Sign in</h1>
      <p>Use an API token: an admin token sees every tenant; a tenant's token sees only that tenant.</p>
      <form id="login-form" novalidate>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required
          aria-describedby="token-help${message ? ' login-error' : ''}">
        <p id="token-help" class="muted small">Kept in this tab only (sessionStorage) and sent as a bearer token on
          every call.</p>
        ${message ? html`<p id="login-error" class="error" role="alert">${message}</p>` : ''}
        <button type="submit">Sign in</button>
      </form>
    </section>`);
  const input = $('#token');
  input.focus();
  $('#login-form').addEventListener('submit', async e => {
    e.preventDefault();
    const secret = input.value.trim();
    if (!secret) { login('Enter a token.'); return; }
    try {
      const who = await session(secret);
      token.set(secret);
      signedIn(who, secret);
    } catch (err) {
      login(err.status === 401 ? 'That token is not valid.' : problemText(err));
    }
  });
  firstViewReady();
}

async function start() {
  whenUnauthorized(() => signOut('Your token is no longer valid: sign in again.'));
  $('#logout').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', show);
  const secret = token.get();
  if (!secret) { login(); return; }
  try {
    signedIn(await session(secret), secret);
  } catch (err) {
    signOut(err.status === 401 ? 'Your token is no longer valid: sign in again.' : problemText(err));
  }
}

start();
