// REST calls with the bearer token kept in sessionStorage (gone when the tab closes). Every call sends the token:
// the console has no other credential and no cookie.

const TOKEN_KEY = 'hodei.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: value => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

function query(params) {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Calls the API; resolves with the parsed body (or text for non-JSON), rejects with an ApiError. */
export async function api(method, path, { body, params, accept, bearer } = {}) {
  const headers = { Accept: accept || 'application/json' };
  const secret = bearer || token.get();
  if (secret) headers.Authorization = `Bearer ${secret}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path + query(params), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
  });
  const type = response.headers.get('Content-Type') || '';
  const payload = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    if (response.status === 401 && !bearer) onUnauthorized();
    throw new ApiError(response.status, typeof payload === 'object' ? payload : { status: response.status, detail: payload });
  }
  return payload;
}

export const get = (path, params) => api('GET', path, { params });
export const post = (path, body) => api('POST', path, { body });

/** Who a token is (role, tenant): the console's own endpoint; 401 for a token that is not valid. */
export const session = bearer => api('GET', '/console/session', { bearer });

/** Metric history: one catalog metric's series over [from, to] (default the last hour). */
export const history = (metric, params = {}) => get('/api/v1/metrics/historical', { metric, ...params });
