// Submit a job: POST /api/v1/jobs with the form's fields; field errors of a 422 are shown beside their fields.
import { get, post } from '../api.js';
import { html, render, $, $$, problemText } from '../dom.js';

/** Splits a command line into argv: whitespace separates, single or double quotes group. */
export function argv(line) {
  const out = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function field(id, label, input, help) {
  return html`<div class="field"><label for="${id}">${label}</label>${input}
    ${help ? html`<p class="muted small" id="${id}-help">${help}</p>` : ''}<p class="error small" id="${id}-error" hidden></p></div>`;
}

export default {
  title: 'Submit a job',
  async mount(root, ctx) {
    const [pools, tenants] = await Promise.all([get('/api/v1/pools', { limit: 200 }),
      ctx.isAdmin ? get('/api/v1/tenants', { limit: 200 }) : Promise.resolve({ items: [] })]);
    render(root, html`<h1>Submit a job</h1>
      <form id="submit-form" class="form" novalidate>
        ${ctx.isAdmin ? field('s-tenant', 'Tenant', html`<select id="s-tenant" name="tenant_id" required>
          ${tenants.items.map(t => html`<option value="${t.id}">${t.name || t.id} (${t.id})</option>`)}</select>`) : ''}
        ${field('s-pool', 'Pool', html`<select id="s-pool" name="pool_id" required>
          ${pools.items.map(p => html`<option value="${p.id}">${p.name || p.id} (${p.id}, ${p.state})</option>`)}</select>`)}
        ${field('s-command', 'Command', html`<input id="s-command" name="command" required value="echo hello"
          aria-describedby="s-command-help" autocomplete="off" spellcheck="false">`, 'Program and arguments; quotes group words.')}
        <div class="row">
          ${field('s-cpu', 'CPU (millicores)', html`<input id="s-cpu" name="cpu_m" type="number" min="1" value="500" required>`)}
          ${field('s-mem', 'Memory (MB)', html`<input id="s-mem" name="memory_mb" type="number" min="1" value="256" required>`)}
          ${field('s-priority', 'Priority (0–100)', html`<input id="s-priority" name="priority" type="number" min="0" max="100" value="50">`)}
        </div>
        <div class="row">
          ${field('s-timeout', 'Timeout (s)', html`<input id="s-timeout" name="timeout_s" type="number" min="1" placeholder="default">`)}
          ${field('s-sla', 'SLA (s from now)', html`<input id="s-sla" name="sla_seconds" type="number" min="1" placeholder="none">`)}
          ${field('s-attempts', 'Max attempts', html`<input id="s-attempts" name="max_attempts" type="number" min="1" placeholder="default">`)}
        </div>
        ${field('s-payload', 'Payload (JSON object, optional)', html`<textarea id="s-payload" name="payload" rows="3"
          spellcheck="false" aria-describedby="s-payload-help"></textarea>`, 'Handed to the job; a simulated pool reads duration_ms.')}
        <p class="error" id="submit-error" role="alert" hidden></p>
        <button type="submit">Submit</button>
      </form>`);
    ctx.ready();
    const form = $('#submit-form', root);
    const showError = (name, message) => {
      const idByName = { tenant_id: 's-tenant', pool_id: 's-pool', command: 's-command', cpu_m: 's-cpu',
        memory_mb: 's-mem', priority: 's-priority', timeout_s: 's-timeout', sla_seconds: 's-sla',
        max_attempts: 's-attempts', payload: 's-payload' };
      const id = idByName[name];
      if (!id) return false;
      const p = $(`#${id}-error`, root);
      p.textContent = message;
      p.hidden = false;
      $(`#${id}`, root).setAttribute('aria-invalid', 'true');
      return true;
    };
    const onSubmit = async e => {
      e.preventDefault();
      $$('.field .error', root).forEach(p => { p.hidden = true; });
      $$('[aria-invalid]', root).forEach(el => el.removeAttribute('aria-invalid'));
      const general = $('#submit-error', root);
      general.hidden = true;
      const data = new FormData(form);
      const body = { pool_id: data.get('pool_id'), command: argv(data.get('command') || '') };
      if (ctx.isAdmin) body.tenant_id = data.get('tenant_id');
      for (const k of ['cpu_m', 'memory_mb', 'priority', 'timeout_s', 'sla_seconds', 'max_attempts']) {
        const v = data.get(k);
        if (v !== null && v !== '') body[k] = Number(v);
      }
      const payload = (data.get('payload') || '').trim();
      if (payload) {
        try { body.payload = JSON.parse(payload); } catch { showError('payload', 'not valid JSON'); return; }
      }
      form.querySelector('button[type=submit]').disabled = true;
      try {
        const job = await post('/api/v1/jobs', body);
        location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
      } catch (err) {
        form.querySelector('button[type=submit]').disabled = false;
        const errors = (err.problem && err.problem.errors) || [];
        const unplaced = errors.filter(x => !showError(x.field, x.message));
        if (!errors.length || unplaced.length) {
          general.textContent = problemText(err);
          general.hidden = false;
        }
        const first = $('[aria-invalid=true]', root);
        if (first) first.focus();
      }
    };
    form.addEventListener('submit', onSubmit);
    return () => form.removeEventListener('submit', onSubmit);
  },
};
