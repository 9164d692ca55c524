// Pools: size, workers by state, health, utilisation over the last hour, and (admins) lifecycle buttons.
// Live: worker.state / pool.state / pool.resized reload the pool they name; the utilisation history is re-read
// every minute (history is the one thing the console polls).
import { get, post, history } from '../api.js';
import { html, raw, render, debounce, badge, pct, problemText, toast } from '../dom.js';
import { stackedBar, sparkline, historyPoints } from '../charts.js';

const STATES = ['provisioning', 'idle', 'busy', 'terminating', 'unhealthy'];
const ACTIONS = ['pause', 'resume', 'drain'];
const HISTORY_MS = 60000;

function utilisation(historyAnswer) {
  // busy / (busy + idle) per pool and instant, from hodei_pool_workers{state}
  const byPool = new Map();
  for (const s of historyAnswer.series || []) {
    const m = /state=(\w+)/.exec(s.metric);
    if (!m || (m[1] !== 'busy' && m[1] !== 'idle')) continue;
    const pool = byPool.get(s.pool) || new Map();
    for (const p of historyPoints(s.points)) {
      const at = pool.get(p.t) || { busy: 0, idle: 0 };
      at[m[1]] = p.v;
      pool.set(p.t, at);
    }
    byPool.set(s.pool, pool);
  }
  const out = new Map();
  for (const [id, points] of byPool) {
    out.set(id, [...points.entries()].sort((a, b) => a[0] - b[0])
      .map(([t, c]) => ({ t, v: c.busy + c.idle ? c.busy / (c.busy + c.idle) : 0 })));
  }
  return out;
}

function actionButton(p, action, confirming) {
  const asking = confirming.get(p.id) === action;
  const name = action[0].toUpperCase() + action.slice(1);
  return html`<button type="button" class="${asking ? 'danger' : 'secondary'}" data-action="${action}"
    data-pool="${p.id}" ${asking ? raw('data-confirm="yes"') : ''}>${asking ? `Confirm ${action}` : name}</button>`;
}

function card(p, health, util, ctx, confirming) {
  const w = p.workers || {};
  const segments = STATES.map(s => ({ label: s, value: w[s] || 0, cls: `seg-${s}` }));
  const h = health.get(p.id);
  const series = util.get(p.id) || [];
  const last = series.length ? series[series.length - 1].v : null;
  const actions = ctx.isAdmin ? ACTIONS.filter(a => (p.allowed_actions || []).includes(a)) : [];
  return html`<article class="card pool" data-pool="${p.id}" aria-labelledby="pool-${p.id}">
    <header><h2 id="pool-${p.id}">${p.name || p.id} <span class="muted small">${p.id}</span></h2>
      <span data-testid="pool-state">${badge(p.state)}</span></header>
    <dl class="facts">
      <div><dt>Kind</dt><dd>${p.kind} · ${p.provider}</dd></div>
      <div><dt>Size</dt><dd>${w.total ?? 0} of target ${p.target_size} (${p.min_size}–${p.max_size})</dd></div>
      <div><dt>Health</dt><dd>${h ? badge(h.status) : html`<span class="muted">–</span>`}
        ${h && h.reasons && h.reasons.length ? html`<span class="small">${h.reasons.join('; ')}</span>` : ''}</dd></div>
      <div><dt>Utilisation</dt><dd class="util">${sparkline(series, { label: `utilisation of ${p.id} over the last hour` })}
        <span>${pct(last)}</span></dd></div>
    </dl>
    <div class="workers">${stackedBar(segments, { label: `workers of ${p.id} by state` })}</div>
    ${actions.length ? html`<div class="actions">${actions.map(a => actionButton(p, a, confirming))}</div>` : ''}
  </article>`;
}

export default {
  title: 'Pools',
  async mount(root, ctx) {
    let pools = new Map();
    let health = new Map();
    let util = new Map();
    // a lifecycle button asks for a second click; the question survives redraws caused by live events
    const confirming = new Map();
    const loadHealth = async () => {
      const answer = await get('/api/v1/observability/health').catch(() => ({ pools: [] }));
      health = new Map((answer.pools || []).map(x => [x.pool, x]));
    };
    const loadHistory = async () => {
      util = utilisation(await history('hodei_pool_workers').catch(() => ({ series: [] })));
    };
    const draw = () => {
      const list = [...pools.values()];
      render(root, html`<h1>Pools</h1>
        <p class="muted">${list.length} pools${ctx.isAdmin ? '' : ' (lifecycle actions need an admin token)'}.</p>
        <div class="cards" id="pool-cards">${list.map(p => card(p, health, util, ctx, confirming))}</div>
        ${list.length ? '' : html`<p>No pools yet. An admin creates them with <code>POST /api/v1/pools</code>.</p>`}`);
    };
    const answer = await get('/api/v1/pools', { limit: 200 });
    pools = new Map(answer.items.map(p => [p.id, p]));
    await Promise.all([loadHealth(), loadHistory()]);
    draw();
    ctx.ready();

    const reloadPool = async id => {
      try {
        pools.set(id, await get(`/api/v1/pools/${encodeURIComponent(id)}`));
      } catch (err) {
        if (err.status === 404) pools.delete(id);
      }
    };
    const pending = new Set();
    const flush = debounce(async () => {
      const ids = [...pending];
      pending.clear();
      await Promise.all([...ids.map(reloadPool), loadHealth()]);
      draw();
    }, 400);
    const touched = e => { if (e.pool_id) { pending.add(e.pool_id); flush(); } };
    const reloadAll = async () => {
      const again = await get('/api/v1/pools', { limit: 200 });
      pools = new Map(again.items.map(p => [p.id, p]));
      await loadHealth();
      draw();
    };
    const offs = ['worker.state', 'pool.state', 'pool.resized'].map(t => ctx.bus.on(t, touched));
    offs.push(ctx.bus.on('reconnected', reloadAll));
    const timer = setInterval(async () => { await loadHistory(); draw(); }, HISTORY_MS);

    const onClick = async e => {
      const button = e.target.closest('button[data-action]');
      if (!button) return;
      const { action, pool } = button.dataset;
      if (!button.dataset.confirm) {
        // a second click confirms: a lifecycle change is not undone by accident
        confirming.set(pool, action);
        draw();
        return;
      }
      confirming.delete(pool);
      button.disabled = true;
      try {
        const updated = await post(`/api/v1/pools/${encodeURIComponent(pool)}/lifecycle`, { action });
        pools.set(pool, updated);
        draw();
        toast(`${pool}: ${action} requested`);
      } catch (err) {
        toast(problemText(err));
        button.disabled = false;
      }
    };
    root.addEventListener('click', onClick);
    return () => {
      offs.forEach(off => off());
      clearInterval(timer);
      flush.cancel();
      root.removeEventListener('click', onClick);
    };
  },
};
