// Access to the gcpilot agent from the dashboard: JSON requests to /api/v1
// and the server-sent event stream, with reconnection. URLs are relative to
// the page, so the dashboard also works behind a path-prefixing proxy.

/** GET a JSON document of the agent API ("status", "processes/42/cycles?limit=10"). */
export async function getJson(path, { signal } = {}) {
  const res = await fetch(`api/v1/${path}`, { signal, headers: { Accept: 'application/json' } });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && body.error) msg += `: ${body.error}`;
    } catch (_) { /* not JSON */ }
    throw new Error(`GET api/v1/${path}: ${msg}`);
  }
  return res.json();
}

export const EVENT_TYPES = ['hello', 'process', 'cycle', 'stop', 'window', 'status', 'finding', 'breaker', 'tuner'];

/**
 * The agent's event stream (/api/v1/stream) over EventSource.
 *
 * handlers.onEvent(type, data) gets every parsed event; handlers.onOpen(n)
 * is called on each (re)connection (n = 0 for the first), after which the
 * caller reloads state from the JSON API; handlers.onState(state) reports
 * 'connecting' | 'open' | 'reconnecting'. The browser reconnects by itself
 * after a network error (e.g. the server dropped a slow client); when the
 * server answers with an error status EventSource gives up, and this class
 * retries with a growing delay (1 s .. 15 s).
 */
export class EventStream {
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.es = null;
    this.opens = 0;
    this.retryMs = 1000;
    this.retryTimer = null;
    this.parseErrors = 0;
  }

  start() {
    this.handlers.onState(this.opens === 0 ? 'connecting' : 'reconnecting');
    const es = new EventSource(this.url);
    this.es = es;
    es.onopen = () => {
      this.retryMs = 1000;
      this.handlers.onState('open');
      this.handlers.onOpen(this.opens++);
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        this.handlers.onState('reconnecting');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.start(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 15000);
      } else {
        this.handlers.onState('reconnecting');
      }
    };
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (e) => {
        let data;
        try {
          data = JSON.parse(e.data);
        } catch (_) {
          this.parseErrors++;
          return;
        }
        this.handlers.onEvent(type, data);
      });
    }
  }

  stop() {
    clearTimeout(this.retryTimer);
    if (this.es) this.es.close();
  }
}
