// One job: state, why it waits (reasons, position, estimated start), SLA, the lifecycle timeline (GET /events) and
// its output per attempt. Live: the job's own events (submitted, started, retry, finished, SLA) reload the page's
// data, so the state and timeline follow without a reload. The output follows too: the page opens with the running
// attempt's output so far (GET /logs lists it with "live": true), appends the job's `job.output` events as they come,
// and shows the stored log once the attempt ends.
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

function outputView(attempts, final) {
  if (!attempts.length) {
    return html`<p class="muted">No output yet${final ? '.' : ': it appears here as the job writes it.'}</p>`;
  }
  return attempts.map(a => html`<h3>Attempt ${a.attempt}
    ${a.live ? html`<span class="live-tag">live</span>` : html`<span class="muted small">${fmtTime(a.at)}</span>`}</h3>
    <pre class="log" data-attempt="${a.attempt}">${a.log}</pre>`);
}

export default {
  title: 'Job',
  async mount(root, ctx) {
    const id = ctx.route.id;
    const path = `/api/v1/jobs/${encodeURIComponent(id)}`;
    let job;
    let attempts = [];
    // job.output events that arrive while the page reads the job: the output read may or may not hold them yet
    let pending = null;
    const load = async () => {
      let events, logs, slaStatus;
      pending = pending || [];
      try {
        [job, events, logs, slaStatus] = await Promise.all([get(path), get(`${path}/events`), get(`${path}/logs`),
          get(`${path}/sla`).catch(() => null)]);
      } catch (err) {
        pending = null;
        if (err.status === 404) {
          render(root, html`<h1>Job not found</h1><p id="job-missing">There is no job <code>${id}</code> that this token may see.</p>
            <p><a href="#/jobs">All jobs</a></p>`);
          return;
        }
        throw err;
      }
      attempts = logs.attempts;
      const arrived = pending || [];
      pending = null;
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
          <div id="logs" aria-live="polite">${outputView(attempts, final)}</div></section>`);
      for (const e of arrived) {
        const a = attempts.find(x => x.attempt === e.attempt);
        if (!(a && a.live && a.log.endsWith(e.data))) append(e);
      }
    };
    // a running attempt's new output: appended to what the page shows, until the attempt's stored log replaces it
    const append = e => {
      if (typeof e.data !== 'string' || !e.data) return;
      let a = attempts.find(x => x.attempt === e.attempt);
      if (a && !a.live) return;
      const pre = a && root.querySelector(`pre.log[data-attempt="${CSS.escape(String(e.attempt))}"]`);
      if (!a) {
        a = { attempt: e.attempt, log: '', live: true, at: new Date().toISOString() };
        attempts.push(a);
        attempts.sort((x, y) => x.attempt - y.attempt);
      }
      a.log += e.data;
      if (pre) pre.append(e.data);
      else {
        const box = root.querySelector('#logs');
        if (box) render(box, outputView(attempts, job && isFinal(job.state)));
      }
    };
    const offOutput = ctx.bus.on('job.output', e => {
      if (e.job_id !== id) return;
      if (pending) pending.push(e);
      else append(e);
    });
    try {
      await load();
    } catch (err) {
      offOutput();
      throw err;
    }
    ctx.ready();
    const reload = debounce(() => load().catch(() => {}), 150);
    const mine = e => { if (e.job_id === id) reload(); };
    const offs = ['job.submitted', 'job.started', 'job.finished', 'job.retry', 'sla.at_risk', 'sla.breached']
      .map(t => ctx.bus.on(t, mine));
    offs.push(offOutput, ctx.bus.on('reconnected', reload));
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
