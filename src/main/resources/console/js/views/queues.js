// Queues per tenant (queued, running, entitled vs actual vs remembered share) and per pool. Live: every job event
// reloads the status (debounced).
import { get } from '../api.js';
import { html, render, debounce, badge } from '../dom.js';
import { ratioBars } from '../charts.js';

function tenantRow(t) {
  return html`<tr data-tenant="${t.tenant_id}">
    <th scope="row">${t.tenant_id}</th><td class="num">${t.weight}</td><td class="num">${t.queued}</td>
    <td class="num opt">${t.admitted}</td><td class="num">${t.running}</td><td class="num opt">${t.oldest_wait_seconds} s</td>
    <td class="shares">${ratioBars([
      { label: 'entitled', value: t.entitled_share, cls: 'c0' },
      { label: 'actual', value: t.actual_share, cls: 'c1' },
      { label: 'remembered', value: t.remembered_share, cls: 'c2' },
    ], { label: `shares of ${t.tenant_id}` })}</td></tr>`;
}

function poolRow(p) {
  const w = p.workers || {};
  return html`<tr><th scope="row">${p.pool_id}</th><td>${badge(p.state)}</td><td class="num">${p.queued}</td>
    <td class="num opt">${p.queued_for_capacity}</td><td class="num">${p.running}</td>
    <td class="num opt">${p.oldest_wait_seconds} s</td><td class="num">${w.busy ?? 0}/${w.total ?? 0}</td></tr>`;
}

export default {
  title: 'Queues',
  async mount(root, ctx) {
    const load = async () => {
      const s = await get('/api/v1/queues/status');
      render(root, html`<h1>Queues</h1>
        <section aria-labelledby="tenants-h"><h2 id="tenants-h">Tenants</h2>
        ${s.tenants.length ? html`<div class="scroll"><table class="grid" id="tenant-queues">
          <thead><tr><th scope="col">Tenant</th><th scope="col" class="num">Weight</th><th scope="col" class="num">Queued</th>
          <th scope="col" class="num opt">Admitted</th><th scope="col" class="num">Running</th><th scope="col" class="num opt">Oldest wait</th>
          <th scope="col">Share: entitled / actual / remembered</th></tr></thead>
          <tbody>${s.tenants.map(tenantRow)}</tbody></table></div>`
          : html`<p class="muted">No tenant has waiting or running jobs.</p>`}</section>
        <section aria-labelledby="pools-h"><h2 id="pools-h">Pools</h2>
        ${s.pools.length ? html`<div class="scroll"><table class="grid">
          <thead><tr><th scope="col">Pool</th><th scope="col">State</th><th scope="col" class="num">Queued</th>
          <th scope="col" class="num opt">For capacity</th><th scope="col" class="num">Running</th>
          <th scope="col" class="num opt">Oldest wait</th><th scope="col" class="num">Busy/workers</th></tr></thead>
          <tbody>${s.pools.map(poolRow)}</tbody></table></div>`
          : html`<p class="muted">No pool has waiting or running jobs.</p>`}</section>
        <p class="muted small">Entitled share follows the tenants' weights among those with work; actual is the share
          of running capacity now; remembered is the decayed usage that fair share orders by. As of ${new Date(s.at).toLocaleTimeString()}.</p>`);
    };
    await load();
    ctx.ready();
    const reload = debounce(() => load().catch(() => {}), 500);
    const offs = ['job.submitted', 'job.started', 'job.finished', 'job.retry', 'reconnected'].map(t => ctx.bus.on(t, reload));
    return () => { offs.forEach(off => off()); reload.cancel(); };
  },
};
