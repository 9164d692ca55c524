// Cost per tenant and per pool over a range: the cost report (JSON, and CSV to download through the same endpoint
// with Accept: text/csv), and the cost rate over time from the metric history (re-read every minute).
import { api, get, history } from '../api.js';
import { html, render, $, toast, problemText } from '../dom.js';
import { lineChart, historyPoints } from '../charts.js';

const RANGES = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30 };
const HISTORY_MS = 60000;

function span(hours) {
  const to = new Date();
  const from = new Date(to.getTime() - hours * 3600000);
  return { from: from.toISOString(), to: to.toISOString() };
}

function table(report, key, label) {
  const rows = report.rows || [];
  if (!rows.length) return html`<p class="muted">No cost in this range.</p>`;
  const cols = report.columns.filter(c => c !== key);
  const shown = ['job_cost', 'jobs', 'job_seconds', 'pool_cost', 'idle_cost', 'efficiency', 'burst_cost'].filter(c => cols.includes(c));
  return html`<div class="scroll"><table class="grid" id="cost-${key}">
    <thead><tr><th scope="col">${label}</th>${shown.map(c => html`<th scope="col" class="num">${c.replace(/_/g, ' ')}</th>`)}</tr></thead>
    <tbody>${rows.map(r => html`<tr><th scope="row">${r[key]}</th>${shown.map(c => html`<td class="num">${r[c]}</td>`)}</tr>`)}</tbody>
    <tfoot><tr><th scope="row">total</th>${shown.map(c => html`<td class="num">${report.totals ? report.totals[c] ?? '' : ''}</td>`)}</tr></tfoot>
  </table></div>`;
}

function series(answer, labelKey) {
  return (answer.series || []).map(s => ({ name: s[labelKey] || s.metric, points: historyPoints(s.points, 'avg') }))
    .filter(s => s.points.length);
}

export default {
  title: 'Cost',
  async mount(root, ctx) {
    let range = ctx.route.params.range in RANGES ? ctx.route.params.range : '24h';
    render(root, html`<h1>Cost</h1>
      <form class="filters" id="cost-range"><div><label for="c-range">Range</label><select id="c-range">
        ${Object.keys(RANGES).map(r => html`<option value="${r}" ${r === range ? 'selected' : ''}>last ${r}</option>`)}</select></div>
        <div class="end"><button type="button" class="secondary" data-csv="tenant">Download CSV by tenant</button>
        <button type="button" class="secondary" data-csv="pool">Download CSV by pool</button></div></form>
      <div id="cost-body"></div>`);
    const body = $('#cost-body', root);
    let reports = { tenant: null, pool: null };
    let charts = { tenant: [], pool: [] };
    const draw = () => render(body, html`
      <section class="card" aria-labelledby="ct-h"><h2 id="ct-h">By tenant</h2>
        ${lineChart(charts.tenant, { label: 'cost rate per tenant', unit: 'currency per hour' })}${table(reports.tenant, 'tenant_id', 'Tenant')}</section>
      <section class="card" aria-labelledby="cp-h"><h2 id="cp-h">By pool</h2>
        ${lineChart(charts.pool, { label: 'cost rate per pool', unit: 'currency per hour' })}${table(reports.pool, 'pool_id', 'Pool')}</section>
      <p class="muted small">Reports come from the hourly cost ledger (ranges round out to whole hours); the charts
        (cost per hour) from the metric history of hodei_tenant_cost_per_hour and hodei_pool_cost_per_hour.</p>`);
    const loadReports = async () => {
      const s = span(RANGES[range]);
      const [tenant, pool] = await Promise.all([get('/api/v1/cost-reports', { ...s, group_by: 'tenant' }),
        get('/api/v1/cost-reports', { ...s, group_by: 'pool' })]);
      reports = { tenant, pool };
    };
    const loadCharts = async () => {
      const s = span(RANGES[range]);
      const [tenant, pool] = await Promise.all([history('hodei_tenant_cost_per_hour', s).catch(() => ({})),
        history('hodei_pool_cost_per_hour', s).catch(() => ({}))]);
      charts = { tenant: series(tenant, 'tenant_id'), pool: series(pool, 'pool') };
    };
    await Promise.all([loadReports(), loadCharts()]);
    draw();
    ctx.ready();
    const onChange = async e => {
      if (e.target.id !== 'c-range') return;
      range = e.target.value;
      window.history.replaceState(null, '', `#/cost?range=${range}`);
      await Promise.all([loadReports(), loadCharts()]);
      draw();
    };
    const onClick = async e => {
      const kind = e.target.dataset && e.target.dataset.csv;
      if (!kind) return;
      try {
        const csv = await api('GET', '/api/v1/cost-reports', { params: { ...span(RANGES[range]), group_by: kind }, accept: 'text/csv' });
        const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
        const a = document.createElement('a');
        a.href = url;
        a.download = `hodei-cost-by-${kind}-${range}.csv`;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (err) {
        toast(problemText(err));
      }
    };
    root.addEventListener('change', onChange);
    root.addEventListener('click', onClick);
    const timer = setInterval(async () => { await loadCharts(); draw(); }, HISTORY_MS);
    return () => { clearInterval(timer); root.removeEventListener('change', onChange); root.removeEventListener('click', onClick); };
  },
};
