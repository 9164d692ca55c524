// Safe HTML templating: every interpolated value is escaped unless it is itself a Html fragment. Views build their
// markup with html`...` and set it with render(); no string from the server ever reaches innerHTML unescaped.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export class Html {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

export function escape(value) {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"'`]/g, c => ESCAPES[c]);
}

function piece(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === false || value === null || value === undefined) return '';
  return escape(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Markup that is already safe (built by this module's callers from constants only). */
export function raw(text) { return new Html(text); }

/**
 * Replaces the element's content. Live redraws must not take the keyboard focus away: the focused control is found
 * again after the redraw by its id, or by its data-action and data-pool, and focused.
 */
export function render(element, fragment) {
  const active = document.activeElement;
  let again = null;
  if (active && active !== element && element.contains(active)) {
    if (active.id) again = `#${CSS.escape(active.id)}`;
    else if (active.dataset.action) {
      again = `[data-action="${CSS.escape(active.dataset.action)}"][data-pool="${CSS.escape(active.dataset.pool || '')}"]`;
    }
  }
  element.innerHTML = piece(fragment);
  if (again) {
    const target = element.querySelector(again);
    if (target) target.focus();
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** Calls fn at most once per `ms`, with the latest arguments (live events arrive in bursts). */
export function debounce(fn, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { hour12: false });
}

export function fmtAgo(iso, now = Date.now()) {
  if (!iso) return '';
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min` : `${(abs / 3600).toFixed(1)} h`;
  return s >= 0 ? `in ${text}` : `${text} ago`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function pct(ratio) {
  return ratio === null || ratio === undefined || Number.isNaN(ratio) ? '–' : `${Math.round(ratio * 100)}%`;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'abandoned']);
export const isFinal = state => FINAL.has(state);

export function badge(state) {
  return html`<span class="badge s-${String(state || 'unknown').toLowerCase()}">${state || 'unknown'}</span>`;
}

/** A short message for screen readers and sighted users alike. */
export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 4000);
}

export function problemText(err) {
  const p = err && err.problem;
  if (!p) return err && err.message ? err.message : String(err);
  const fields = Array.isArray(p.errors) ? p.errors.map(e => `${e.field}: ${e.message}`).join('; ') : '';
  return `${p.title || 'Error'} (${p.status}): ${p.detail || ''}${fields ? ' – ' + fields : ''}`;
}
