// Jobs: a filterable table (state, tenant, pool), newest first, with paging. Live: job events reload the page of
// jobs shown (debounced), so states change in place.
import { get } from '../api.js';
import { html, render, $, debounce, badge, fmtTime, fmtDuration } from '../dom.js';

const STATES = ['', 'queued', 'admitted', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'abandoned'];

function row(j) {
  const ran = j.started_at && j.finished_at ? new Date(j.finished_at) - new Date(j.started_at) : null;
  return html`<tr data-job="${j.id}"><td><a href="#/jobs/${encodeURIComponent(j.id)}">${j.name || j.id}</a></td>
    <td>${j.tenant_id}</td><td data-testid="job-row-state">${badge(j.state)}</td><td class="opt">${j.placed_pool_id || j.pool_id || ''}</td>
    <td class="num opt">${j.priority}</td><td class="opt">${fmtTime(j.submitted_at)}</td><td class="num opt">${fmtDuration(ran)}</td></tr>`;
}

export default {
  title: 'Jobs',
  async mount(root, ctx) {
    const filter = { state: ctx.route.params.state || '', tenant: ctx.route.params.tenant || '', pool: ctx.route.params.pool || '' };
    let items = [];
    let cursor = null;
    render(root, html`<h1>Jobs</h1>
      <form id="job-filter" class="filters" role="search" aria-label="Filter jobs">
        <div><label for="f-state">State</label><select id="f-state" name="state">
          ${STATES.map(s => html`<option value="${s}" ${s === filter.state ? 'selected' : ''}>${s || 'any'}</option>`)}</select></div>
        ${ctx.isAdmin ? html`<div><label for="f-tenant">Tenant</label><input id="f-tenant" name="tenant" value="${filter.tenant}" autocomplete="off"></div>` : ''}
        <div><label for="f-pool">Pool</label><input id="f-pool" name="pool" value="${filter.pool}" autocomplete="off"></div>
        <div class="end"><button type="submit">Filter</button></div>
      </form>
      <div id="job-table"></div>`);
    const table = $('#job-table', root);
    const draw = () => render(table, items.length ? html`<div class="scroll"><table class="grid" id="jobs">
        <caption class="sr-only">Jobs, newest first</caption>
        <thead><tr><th scope="col">Job</th><th scope="col">Tenant</th><th scope="col">State</th><th scope="col" class="opt">Pool</th>
        <th scope="col" class="num opt">Priority</th><th scope="col" class="opt">Submitted</th><th scope="col" class="num opt">Ran</th></tr></thead>
        <tbody>${items.map(row)}</tbody></table></div>
        ${cursor ? html`<button type="button" class="secondary" id="more">Load more</button>` : ''}`
      : html`<p class="muted" id="no-jobs">No jobs match.</p>`);
    const params = () => ({ limit: 50, state: filter.state, tenant: filter.tenant, pool: filter.pool });
    const load = async () => {
      const shown = Math.max(50, items.length);
      const answer = await get('/api/v1/jobs', { ...params(), limit: Math.min(shown, 500) });
      items = answer.items;
      cursor = answer.next_cursor;
      draw();
    };
    await load();
    ctx.ready();
    root.addEventListener('submit', onSubmit);
    root.addEventListener('click', onClick);
    async function onSubmit(e) {
      if (e.target.id !== 'job-filter') return;
      e.preventDefault();
      const data = new FormData(e.target);
      filter.state = data.get('state') || '';
      filter.tenant = data.get('tenant') || '';
      filter.pool = data.get('pool') || '';
      const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
      history.replaceState(null, '', `#/jobs${q ? '?' + q : ''}`);
      items = [];
      await load();
    }
    async function onClick(e) {
      if (e.target.id !== 'more') return;
      const answer = await get('/api/v1/jobs', { ...params(), cursor });
      items = items.concat(answer.items);
      cursor = answer.next_cursor;
      draw();
    }
    const reload = debounce(() => load().catch(() => {}), 400);
    const offs = ['job.submitted', 'job.started', 'job.finished', 'job.retry', 'reconnected'].map(t => ctx.bus.on(t, reload));
    return () => {
      offs.forEach(off => off());
      reload.cancel();
      root.removeEventListener('submit', onSubmit);
      root.removeEventListener('click', onClick);
    };
  },
};
