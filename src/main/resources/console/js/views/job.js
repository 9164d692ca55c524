// One job: state, why it waits (reasons, position, estimated start), SLA, the lifecycle timeline (GET /events) and
// its output per attempt. Live: the job's own events (submitted, started, retry, finished, SLA) reload the page's
// data, so the state, timeline and logs follow without a reload; an attempt's output is stored when the attempt ends.
import { get, post } from '../api.js';
import { html, render, debounce, badge, fmtTime, fmtAgo, isFinal, problemText, toast } from '../dom.js';

function detailText(detail) {
  if (!detail) return '';
  return Object.entries(detail).filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ');
}

function waiting(w) {
  if (!w) return '';
  return html`<section class="card" aria-labelledby="why-h"><h2 id="why-h">Why it is waiting</h2>
    <ul id="why-pending">${(w.reasons || []).map(r => html`<li><strong>${r.code}</strong>: ${r.detail}</li>`)}</ul>
    <p>Position ${w.position ?? '–'}${w.estimated_start_at ? html`; estimated start <strong>${fmtAgo(w.estimated_start_at)}</strong>
      (${fmtTime(w.estimated_start_at)})` : ''}</p>
    ${w.estimate_basis ? html`<p class="muted small">${w.estimate_basis}</p>` : ''}</section>`;
}

function sla(s) {
  if (!s) return '';
  return html`<section class="card" aria-labelledby="sla-h"><h2 id="sla-h">SLA</h2>
    <p id="sla-status">${badge(s.status)} ${s.deadline ? html`deadline ${fmtTime(s.deadline)} (${fmtAgo(s.deadline)})` : html`<span class="muted">no deadline set</span>`}</p>
    ${s.predicted_finish_at ? html`<p>Predicted finish ${fmtTime(s.predicted_finish_at)}</p>` : ''}</section>`;
}

export default {
  title: 'Job',
  async mount(root, ctx) {
    const id = ctx.route.id;
    const path = `/api/v1/jobs/${encodeURIComponent(id)}`;
    let job;
    const load = async () => {
      let events, logs, slaStatus;
      try {
        [job, events, logs, slaStatus] = await Promise.all([get(path), get(`${path}/events`), get(`${path}/logs`),
          get(`${path}/sla`).catch(() => null)]);
      } catch (err) {
        if (err.status === 404) {
          render(root, html`<h1>Job not found</h1><p id="job-missing">There is no job <code>${id}</code> that this token may see.</p>
            <p><a href="#/jobs">All jobs</a></p>`);
          return;
        }
        throw err;
      }
      const canCancel = !isFinal(job.state) && ctx.may('submitter');
      const final = isFinal(job.state);
      render(root, html`<p><a href="#/jobs">← Jobs</a></p>
        <h1>Job <code>${job.id}</code></h1>
        <dl class="facts wide">
          <div><dt>State</dt><dd data-testid="job-state" data-state="${job.state}">${badge(job.state)}</dd></div>
          <div><dt>Tenant</dt><dd>${job.tenant_id}</dd></div>
          <div><dt>Pool</dt><dd>${job.placed_pool_id || job.pool_id || (job.pool_labels ? JSON.stringify(job.pool_labels) : '')}</dd></div>
          <div><dt>Worker</dt><dd>${job.worker_id || '–'}</dd></div>
          <div><dt>Attempts</dt><dd>${job.attempts} of ${job.max_attempts}</dd></div>
          <div><dt>Command</dt><dd><code>${(job.command || []).join(' ')}</code></dd></div>
          <div><dt>Submitted</dt><dd>${fmtTime(job.submitted_at)}</dd></div>
          <div><dt>Exit code</dt><dd>${job.exit_code ?? '–'}${job.error_type ? html` (${job.error_type})` : ''}</dd></div>
        </dl>
        ${canCancel ? html`<p><button type="button" class="secondary" id="cancel">Cancel job</button></p>` : ''}
        ${waiting(job.waiting)}
        ${sla(slaStatus)}
        <section class="card" aria-labelledby="timeline-h"><h2 id="timeline-h">Lifecycle</h2>
          <ol class="timeline" id="timeline">${events.items.map(e => html`<li data-state="${e.state}">
            <span class="when">${fmtTime(e.at)}</span> ${badge(e.state)} <span class="small">${detailText(e.detail)}</span></li>`)}</ol></section>
        <section class="card" aria-labelledby="logs-h"><h2 id="logs-h">Output ${final ? '' : html`<span class="live-tag">following</span>`}</h2>
          <div id="logs" aria-live="polite">${logs.attempts.length ? logs.attempts.map(a => html`<h3>Attempt ${a.attempt}
            <span class="muted small">${fmtTime(a.at)}</span></h3><pre class="log">${a.log}</pre>`)
            : html`<p class="muted">No output yet: an attempt's output is stored when it ends.</p>`}</div></section>`);
    };
    await load();
    ctx.ready();
    const reload = debounce(() => load().catch(() => {}), 150);
    const mine = e => { if (e.job_id === id) reload(); };
    const offs = ['job.submitted', 'job.started', 'job.finished', 'job.retry', 'sla.at_risk', 'sla.breached']
      .map(t => ctx.bus.on(t, mine));
    offs.push(ctx.bus.on('reconnected', reload));
    // the waiting estimate moves as other jobs start and end: re-read while this one waits
    const others = e => { if (job && !job.started_at && !isFinal(job.state) && e.job_id !== id) reload(); };
    offs.push(ctx.bus.on('job.started', others), ctx.bus.on('job.finished', others));
    const onClick = async e => {
      if (e.target.id !== 'cancel') return;
      e.target.disabled = true;
      try {
        await post(`${path}/cancel`, {});
        toast('Cancellation requested');
      } catch (err) {
        toast(problemText(err));
      }
    };
    root.addEventListener('click', onClick);
    return () => { offs.forEach(off => off()); reload.cancel(); root.removeEventListener('click', onClick); };
  },
};
