// The scaling ledger of a pool: every decision with its reason and inputs, and the capacity curve (size after each
// decision). Live: pool.scaled for the pool shown reloads the ledger.
import { get } from '../api.js';
import { html, render, $, debounce, fmtTime } from '../dom.js';
import { lineChart } from '../charts.js';

export default {
  title: 'Scaling',
  async mount(root, ctx) {
    const pools = (await get('/api/v1/pools', { limit: 200 })).items;
    const dynamic = pools.filter(p => p.kind === 'dynamic');
    const id = ctx.route.id || (dynamic[0] || pools[0] || {}).id;
    render(root, html`<h1>Scaling</h1>
      <form class="filters" id="scaling-pick"><div><label for="sc-pool">Pool</label>
        <select id="sc-pool" name="pool">${pools.map(p => html`<option value="${p.id}" ${p.id === id ? 'selected' : ''}>${p.name || p.id} (${p.kind})</option>`)}</select></div></form>
      <div id="ledger"></div>`);
    const target = $('#ledger', root);
    const load = async () => {
      if (!id) { render(target, html`<p class="muted">No pools yet.</p>`); return; }
      const pool = pools.find(p => p.id === id);
      const answer = await get(`/api/v1/pools/${encodeURIComponent(id)}/scaling/history`, { limit: 200 });
      const items = answer.items;
      const oldestFirst = [...items].reverse();
      const curve = oldestFirst.length ? [{ t: new Date(oldestFirst[0].at).getTime(), v: oldestFirst[0].size_before },
        ...oldestFirst.map(d => ({ t: new Date(d.at).getTime(), v: d.size_after })), { t: Date.now(), v: oldestFirst[oldestFirst.length - 1].size_after }] : [];
      render(target, html`
        <section class="card" aria-labelledby="curve-h"><h2 id="curve-h">Capacity of ${id}</h2>
          ${pool && pool.kind !== 'dynamic' ? html`<p class="muted">A static pool: its size changes only when an admin sets it.</p>` : ''}
          ${curve.length ? lineChart([{ name: 'workers after each decision', points: curve }], { label: `capacity of ${id}`, step: true, unit: 'workers' })
            : html`<p class="muted">No scaling decisions yet.</p>`}</section>
        ${items.length ? html`<section aria-labelledby="ledger-h"><h2 id="ledger-h">Decisions</h2><div class="scroll"><table class="grid" id="scaling-ledger">
          <thead><tr><th scope="col">When</th><th scope="col">Direction</th><th scope="col" class="num">Size</th>
          <th scope="col">Reason</th><th scope="col" class="opt">Source</th></tr></thead>
          <tbody>${items.map(d => html`<tr><td>${fmtTime(d.at)}</td><td>${d.direction}</td>
            <td class="num">${d.size_before} → ${d.size_after}</td><td class="reason">${d.reason}</td>
            <td class="opt">${d.source}${d.reason_code ? html` <span class="muted small">${d.reason_code}</span>` : ''}</td></tr>`)}</tbody>
          </table></div></section>` : ''}`);
    };
    await load();
    ctx.ready();
    const onChange = e => { if (e.target.id === 'sc-pool') location.hash = `#/scaling/${encodeURIComponent(e.target.value)}`; };
    root.addEventListener('change', onChange);
    const reload = debounce(() => load().catch(() => {}), 300);
    const offs = [ctx.bus.on('pool.scaled', e => { if (e.pool_id === id) reload(); }), ctx.bus.on('reconnected', reload)];
    return () => { offs.forEach(off => off()); reload.cancel(); root.removeEventListener('change', onChange); };
  },
};
