// Live domain events over the event-bus bridge's raw WebSocket (/eventbus/websocket): one JSON text frame per
// message, the Vert.x bridge protocol. Registrations carry the bearer token; the server filters events to the
// token's tenant (admins see all). A ping every 5 s keeps the connection open (the bridge closes a connection that
// is silent for 10 s). After a drop the bus reconnects with backoff and tells its listeners ('reconnected'), so
// views reload what they show instead of trusting a stream with a gap. Chatty types (a running job's output) are
// registered only while a view listens to them, so a console does not receive every job's output all the time.

export const EVENT_TYPES = [
  'job.submitted', 'job.started', 'job.finished', 'job.retry', 'sla.at_risk', 'sla.breached', 'quota.exceeded',
  'worker.state', 'pool.state', 'pool.resized', 'pool.scaled', 'tenant.changed',
];
/** Registered on demand: while at least one listener wants them. */
export const ON_DEMAND_TYPES = ['job.output'];
const PREFIX = 'hodei.events.';
const PING_MS = 5000;

export class Bus {
  constructor(bearer) {
    this.bearer = bearer;
    this.listeners = new Map();
    this.status = 'connecting';
    this.backoff = 500;
    this.closed = false;
    this.everOpen = false;
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/eventbus/websocket`);
    this.ws = ws;
    ws.onopen = () => {
      const headers = { authorization: `Bearer ${this.bearer}` };
      for (const type of EVENT_TYPES) ws.send(JSON.stringify({ type: 'register', address: PREFIX + type, headers }));
      for (const type of ON_DEMAND_TYPES) if (this.listeners.get(type)?.size) this.registration('register', type);
      this.ping = setInterval(() => ws.readyState === 1 && ws.send('{"type":"ping"}'), PING_MS);
      this.backoff = 500;
      this.setStatus('live');
      if (this.everOpen) this.emit('reconnected', {});
      this.everOpen = true;
    };
    ws.onmessage = e => {
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      if (frame.type === 'err') {
        if (frame.failureType === 'unauthorized') this.setStatus('unauthorized');
        return;
      }
      const body = frame.body || {};
      const type = body.type || (frame.address || '').slice(PREFIX.length);
      this.emit(type, body);
      this.emit('*', body);
    };
    ws.onclose = () => {
      clearInterval(this.ping);
      if (this.closed) return;
      this.setStatus('reconnecting');
      setTimeout(() => !this.closed && this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 15000);
    };
  }

  setStatus(status) {
    this.status = status;
    this.emit('status', { status });
  }

  /** Calls fn(body) for each event of `type` ('*' = every event, 'status', 'reconnected'); returns the unsubscribe. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    const set = this.listeners.get(type);
    const onDemand = ON_DEMAND_TYPES.includes(type);
    if (onDemand && set.size === 0) this.registration('register', type);
    set.add(fn);
    return () => {
      if (set.delete(fn) && onDemand && set.size === 0) this.registration('unregister', type);
    };
  }

  registration(kind, type) {
    if (!this.ws || this.ws.readyState !== 1) return; // (re)registered when the connection opens
    const frame = { type: kind, address: PREFIX + type };
    if (kind === 'register') frame.headers = { authorization: `Bearer ${this.bearer}` };
    this.ws.send(JSON.stringify(frame));
  }

  emit(type, body) {
    for (const fn of this.listeners.get(type) || []) {
      try { fn(body); } catch (err) { console.error('event listener failed', type, err); }
    }
  }

  close() {
    this.closed = true;
    clearInterval(this.ping);
    if (this.ws) this.ws.close();
  }
}
