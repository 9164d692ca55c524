// Small SVG charts. Sizes are in viewBox units and the SVG scales to its container (CSS), so nothing overflows on a
// phone. Colours come from CSS classes (no inline style: the Content-Security-Policy allows none).
import { html, escape, raw } from './dom.js';

const n = v => (Number.isFinite(v) ? Math.round(v * 100) / 100 : 0);

/** One horizontal bar split into segments [{label, value, cls}] with a legend. */
export function stackedBar(segments, { label = 'distribution' } = {}) {
  const total = segments.reduce((s, x) => s + (x.value || 0), 0);
  const width = 300;
  let x = 0;
  const rects = segments.filter(s => s.value > 0).map(s => {
    const w = total ? (s.value / total) * width : 0;
    const rect = `<rect x="${n(x)}" y="0" width="${n(w)}" height="14" class="${escape(s.cls)}"><title>${escape(s.label)}: ${escape(s.value)}</title></rect>`;
    x += w;
    return rect;
  }).join('');
  const summary = segments.map(s => `${s.label} ${s.value}`).join(', ');
  return html`<svg class="bar" viewBox="0 0 ${width} 14" preserveAspectRatio="none" role="img"
      aria-label="${label}: ${summary}"><rect x="0" y="0" width="${width}" height="14" class="track"></rect>${raw(rects)}</svg>
    <ul class="legend">${segments.map(s => html`<li><span class="key ${s.cls}" aria-hidden="true"></span>${s.label} ${s.value}</li>`)}</ul>`;
}

/** Bars of ratios 0..1: [{label, value, cls}], one row each, with the value written beside. */
export function ratioBars(rows, { label = 'shares' } = {}) {
  const width = 300;
  const rowH = 16;
  const bars = rows.map((r, i) => {
    const v = Math.max(0, Math.min(1, r.value || 0));
    const y = i * (rowH + 4);
    return `<rect x="0" y="${y}" width="${width}" height="${rowH}" class="track"></rect>`
      + `<rect x="0" y="${y}" width="${n(v * width)}" height="${rowH}" class="${escape(r.cls)}"><title>${escape(r.label)} ${escape(Math.round(v * 1000) / 10)}%</title></rect>`;
  }).join('');
  const height = rows.length * (rowH + 4) - 4;
  const summary = rows.map(r => `${r.label} ${Math.round((r.value || 0) * 1000) / 10}%`).join(', ');
  return html`<div class="ratio"><svg class="bars" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img"
      aria-label="${label}: ${summary}">${raw(bars)}</svg>
    <ul class="legend">${rows.map(r => html`<li><span class="key ${r.cls}" aria-hidden="true"></span>${r.label} ${Math.round((r.value || 0) * 1000) / 10}%</li>`)}</ul></div>`;
}

/** A sparkline of [{t: ms, v}] scaled to [0, max]. */
export function sparkline(points, { max = 1, label = 'trend' } = {}) {
  const width = 120;
  const height = 28;
  if (!points.length) return html`<span class="muted">no history yet</span>`;
  const t0 = points[0].t;
  const span = Math.max(1, points[points.length - 1].t - t0);
  const top = Math.max(max, ...points.map(p => p.v)) || 1;
  const coords = points.map(p => `${n(((p.t - t0) / span) * width)},${n(height - (p.v / top) * (height - 2) - 1)}`);
  if (points.length === 1) coords.push(`${width},${coords[0].split(',')[1]}`);
  return html`<svg class="spark" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="${label}">
    <polyline points="${coords.join(' ')}" class="line"></polyline></svg>`;
}

/**
 * A line chart of several series [{name, points: [{t: ms, v}]}] over time, with a legend and the y range written
 * out; `step` draws a step line (capacity curves).
 */
export function lineChart(series, { label = 'chart', step = false, unit = '' } = {}) {
  const width = 600;
  const height = 200;
  const pad = { l: 46, r: 8, t: 8, b: 22 };
  const all = series.flatMap(s => s.points);
  if (!all.length) return html`<p class="muted">No data for this range yet.</p>`;
  const tMin = Math.min(...all.map(p => p.t));
  const tMax = Math.max(...all.map(p => p.t), tMin + 1);
  const vMax = Math.max(...all.map(p => p.v), 0) || 1;
  const vMin = Math.min(0, ...all.map(p => p.v));
  const x = t => pad.l + ((t - tMin) / (tMax - tMin)) * (width - pad.l - pad.r);
  const y = v => pad.t + (1 - (v - vMin) / (vMax - vMin || 1)) * (height - pad.t - pad.b);
  const lines = series.map((s, i) => {
    const pts = [];
    s.points.forEach((p, j) => {
      if (step && j > 0) pts.push(`${n(x(p.t))},${n(y(s.points[j - 1].v))}`);
      pts.push(`${n(x(p.t))},${n(y(p.v))}`);
    });
    if (pts.length === 1) pts.push(`${n(width - pad.r)},${pts[0].split(',')[1]}`);
    return `<polyline points="${pts.join(' ')}" class="line c${i % 8}"><title>${escape(s.name)}</title></polyline>`;
  }).join('');
  const fmtV = v => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));
  const fmtT = t => new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  const axes = `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" class="axis"></line>`
    + `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" class="axis"></line>`
    + `<text x="${pad.l - 4}" y="${pad.t + 8}" class="tick end">${escape(fmtV(vMax))}</text>`
    + `<text x="${pad.l - 4}" y="${height - pad.b}" class="tick end">${escape(fmtV(vMin))}</text>`
    + `<text x="${pad.l}" y="${height - 6}" class="tick">${escape(fmtT(tMin))}</text>`
    + `<text x="${width - pad.r}" y="${height - 6}" class="tick end">${escape(fmtT(tMax))}</text>`;
  return html`<figure class="chart"><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}${unit ? ' (' + unit + ')' : ''}">${raw(axes)}${raw(lines)}</svg>
    <figcaption><ul class="legend">${series.map((s, i) => html`<li><span class="key c${i % 8}" aria-hidden="true"></span>${s.name}</li>`)}</ul></figcaption></figure>`;
}

/** Turns a history answer's points (raw `value`, or aggregated `avg`) into [{t: ms, v}]. */
export function historyPoints(points, field = 'avg') {
  return (points || []).map(p => ({ t: new Date(p.t).getTime(), v: p.value !== undefined ? p.value : p[field] }))
    .filter(p => Number.isFinite(p.v));
}
