// Jobs: a filterable table (state, tenant, pool), newest first, with paging. Live: an event of a job in the table
// updates its row from the event's own fields (state, pool, times), so states change in place without a request;
// an event of a job not in the table (a new one) re-reads the page of jobs (coalesced), as does a reconnect.
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
    // events that arrive while the page of jobs is read: the answer may be older than them, so they apply again
    let during = null;
    const load = async () => {
      const shown = Math.max(50, items.length);
      during = during || [];
      let answer;
      let late;
      try {
        answer = await get('/api/v1/jobs', { ...params(), limit: Math.min(shown, 500) });
      } finally {
        late = during || [];
        during = null;
      }
      items = answer.items;
      cursor = answer.next_cursor;
      for (const [type, e] of late) update(type, e);
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
    // what each event says about the job's row; job.submitted only announces a job
    const changes = {
      'job.started': e => ({ state: 'running', placed_pool_id: e.pool_id, worker_id: e.worker_id, started_at: e.started_at,
        finished_at: null, attempts: e.attempt }),
      'job.finished': e => ({ state: e.state, placed_pool_id: e.pool_id ?? undefined, started_at: e.started_at ?? undefined,
        finished_at: e.finished_at, exit_code: e.exit_code, error_type: e.error_type }),
      'job.retry': e => ({ state: 'queued', worker_id: null, started_at: null, finished_at: null, attempts: e.attempt }),
    };
    const onJobEvent = type => e => {
      if (during) during.push([type, e]);
      if (update(type, e)) draw();
    };
    // applies one event to the table: true when a row changed; a job not in the table is re-read
    function update(type, e) {
      const i = items.findIndex(j => j.id === e.job_id);
      const change = changes[type] ? changes[type](e) : null;
      if (i < 0) {
        // a job the table does not show: re-read, unless the filters tell that it cannot be listed
        if (filter.tenant && e.tenant_id && e.tenant_id !== filter.tenant) return false;
        if (filter.state && change && change.state !== filter.state) return false;
        if (filter.state && !change && filter.state !== 'queued') return false;
        if (!during) reload();
        return false;
      }
      if (!change || !change.state) return false;
      const updated = { ...items[i] };
      for (const [k, v] of Object.entries(change)) if (v !== undefined) updated[k] = v;
      if (filter.state && updated.state !== filter.state) items.splice(i, 1);
      else items[i] = updated;
      return true;
    }
    const offs = ['job.submitted', 'job.started', 'job.finished', 'job.retry'].map(t => ctx.bus.on(t, onJobEvent(t)));
    offs.push(ctx.bus.on('reconnected', reload));
    return () => {
      offs.forEach(off => off());
      reload.cancel();
      root.removeEventListener('submit', onSubmit);
      root.removeEventListener('click', onClick);
    };
  },
};
