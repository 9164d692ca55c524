// Alerts firing now, as Alertmanager reports them (GET /api/v1/observability/alerts). Alerts are not events on the
// bridge: the list is read when the view opens and with the Refresh button.
import { get } from '../api.js';
import { html, render, badge, fmtTime, fmtAgo } from '../dom.js';

export default {
  title: 'Alerts',
  async mount(root, ctx) {
    const load = async () => {
      let answer;
      try {
        answer = await get('/api/v1/observability/alerts');
      } catch (err) {
        answer = { configured: true, error: err.status === 503 ? 'Alertmanager does not answer.' : err.message, alerts: [] };
      }
      render(root, html`<h1>Alerts</h1>
        <p><button type="button" class="secondary" id="refresh">Refresh</button></p>
        ${!answer.configured ? html`<p id="alerts-state">Alerting is not configured on this server
            (<code>observability.alerting.alertmanager_url</code>): no alerts to show.</p>`
          : answer.error ? html`<p class="error" id="alerts-state" role="alert">${answer.error}</p>`
          : answer.alerts.length ? html`<div class="scroll"><table class="grid" id="alerts">
            <thead><tr><th scope="col">Alert</th><th scope="col">Severity</th><th scope="col">Since</th><th scope="col">Summary</th></tr></thead>
            <tbody>${answer.alerts.map(a => html`<tr><th scope="row">${a.name}</th><td>${badge(a.severity)}</td>
              <td>${fmtTime(a.starts_at)} (${fmtAgo(a.starts_at)})</td>
              <td>${(a.annotations && (a.annotations.summary || a.annotations.description)) || ''}
                <span class="muted small">${Object.entries(a.labels || {}).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(' ')}</span></td></tr>`)}</tbody>
          </table></div>` : html`<p id="alerts-state">No alert is firing.</p>`}`);
    };
    await load();
    ctx.ready();
    const onClick = e => { if (e.target.id === 'refresh') load(); };
    root.addEventListener('click', onClick);
    return () => root.removeEventListener('click', onClick);
  },
};
