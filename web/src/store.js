// Client-side state of the gcpilot dashboard: the agent status, every known
// process (its latest PROCESS object, window, health and gauges), the
// selected process's recent GC cycles and non-GC stops, the pause points
// of all processes for the overview chart, and the agent's verdicts: detector
// findings (active and recently cleared), each process's breaker and its
// tuner recommendation. Every buffer is bounded (count and age), so a
// long-open tab with 50 processes keeps a flat memory profile.

export const HISTORY_MS = 5 * 60 * 1000;  // charts show at most the last 5 minutes
export const MAX_CYCLES = 3000;           // per selected process
export const MAX_STOPS = 2000;            // per selected process
export const OVERVIEW_MS = 2 * 60 * 1000; // overview: last 2 minutes
export const MAX_OVERVIEW_POINTS = 6000;  // overview: all processes together
export const MAX_CLEARED_FINDINGS = 50;   // recently cleared findings kept (newest)
const P99_WINDOW_MS = 10 * 1000;          // rolling P99 like the agent's health window
const P99_MAX_SAMPLES = 1024;

/**
 * Items with a time `t` (Unix ms), kept sorted by `t`, at most `cap` of them
 * and none older than `maxAgeMs` before the newest. Appends are O(1) when
 * items come in time order (the usual case), a short insertion otherwise.
 */
export class TimeBuffer {
  constructor(cap, maxAgeMs) {
    this.cap = cap;
    this.maxAgeMs = maxAgeMs;
    this.items = [];
    this.version = 0;  // bumped on every change, so renderers skip unchanged data
  }

  get length() { return this.items.length; }
  last() { return this.items[this.items.length - 1]; }

  push(item) {
    const a = this.items;
    let i = a.length;
    while (i > 0 && a[i - 1].t > item.t) i--;
    if (i === a.length) a.push(item); else a.splice(i, 0, item);
    this.version++;
    // Trim in batches (10 % slack) so the splice cost is amortised.
    if (a.length > this.cap + (this.cap >> 3) || a[0].t < a[a.length - 1].t - this.maxAgeMs * 1.1) {
      this.trim();
    }
    return i;
  }

  trim() {
    const a = this.items;
    if (a.length === 0) return;
    const oldest = a[a.length - 1].t - this.maxAgeMs;
    let drop = Math.max(0, a.length - this.cap);
    while (drop < a.length && a[drop].t < oldest) drop++;
    if (drop > 0) {
      a.splice(0, drop);
      this.version++;
    }
  }

  clear() {
    this.items = [];
    this.version++;
  }
}

/** One known process (the newest generation of a pid). */
class Proc {
  constructor(p) {
    this.pid = p.pid;
    this.generation = p.generation ?? 0;
    this.info = {};
    this.window = null;
    this.health = 'idle';
    this.gauges = null;
    this.update(p);
  }

  update(p) {
    const { window: w, ...rest } = p;
    Object.assign(this.info, rest);
    if (p.health) this.health = p.health;
    if (p.gauges !== undefined) this.gauges = p.gauges;
    if (w) this.window = w;
  }
}

/** The selected process's history for the charts. */
class Selection {
  constructor(pid, generation) {
    this.pid = pid;
    this.generation = generation;
    this.cycles = new TimeBuffer(MAX_CYCLES, HISTORY_MS);
    this.stops = new TimeBuffer(MAX_STOPS, HISTORY_MS);
    this.lastCycleNs = -Infinity;  // dedupes a cycle both fetched and streamed
    this.lastStopNs = -Infinity;
    this.loaded = false;   // history fetched; until then streamed records wait in `pending`
    this.pending = [];
    this.needsLoad = false;  // set when replaced by the store itself (pid reuse)
  }
}

export class DashboardState {
  constructor() {
    this.status = null;
    this.statusAt = 0;        // performance.now() when status was received
    this.procs = new Map();   // pid -> Proc
    this.dirtyPids = new Set();
    this.tableStructureChanged = true;
    this.selection = null;
    this.overview = new TimeBuffer(MAX_OVERVIEW_POINTS, OVERVIEW_MS);
    this.clockOffsetMs = null;  // time_ms - start_ns / 1e6, for records without time_ms
    this.findings = new Map();  // id -> FINDING (active, and the newest cleared ones)
    this.breakers = new Map();  // pid -> {pid, generation, binary, comm, breaker, transition}
    this.tuners = new Map();    // pid -> {pid, generation, tuner}
    this.verdictsVersion = 0;   // bumped when findings, breakers or tuners change
  }

  // ---- findings, breakers, tuner ----

  /** GET /api/v1/findings: replaces every finding. */
  setFindings(res) {
    this.findings.clear();
    for (const f of [...(res?.active ?? []), ...(res?.recent ?? [])]) {
      if (f && Number.isFinite(f.id)) this.findings.set(f.id, f);
    }
    this.trimFindings();
    this.verdictsVersion++;
  }

  /** A `finding` stream event: a FINDING raised or cleared. */
  applyFinding(f) {
    if (!f || !Number.isFinite(f.id)) return;
    const { change, ...finding } = f;
    this.findings.set(f.id, finding);
    this.trimFindings();
    this.verdictsVersion++;
  }

  trimFindings() {
    const cleared = [...this.findings.values()].filter((f) => !f.active);
    if (cleared.length <= MAX_CLEARED_FINDINGS) return;
    cleared.sort((a, b) => (b.cleared_ms ?? 0) - (a.cleared_ms ?? 0));
    for (const f of cleared.slice(MAX_CLEARED_FINDINGS)) this.findings.delete(f.id);
  }

  /** GET /api/v1/breakers: replaces every breaker. */
  setBreakers(res) {
    this.breakers.clear();
    for (const p of res?.processes ?? []) {
      if (!p || !Number.isFinite(p.pid) || !p.breaker) continue;
      const history = Array.isArray(p.history) ? p.history : [];
      this.putBreaker(p, history.length ? history[history.length - 1] : null);
    }
    this.verdictsVersion++;
  }

  /** A `breaker` stream event: {pid, generation, binary, comm, transition, breaker}. */
  applyBreaker(ev) {
    if (!ev || !Number.isFinite(ev.pid) || !ev.breaker) return;
    this.putBreaker(ev, ev.transition ?? null);
    this.verdictsVersion++;
  }

  putBreaker(p, transition) {
    const gen = p.generation ?? 0;
    const cur = this.breakers.get(p.pid);
    if (cur && gen < cur.generation) return;
    this.breakers.set(p.pid, {
      pid: p.pid,
      generation: gen,
      binary: p.binary ?? cur?.binary ?? '',
      comm: p.comm ?? cur?.comm ?? '',
      breaker: p.breaker,
      transition: transition ?? (cur && cur.generation === gen ? cur.transition : null),
    });
  }

  /** A `tuner` stream event, or the `tuner` object of a PROCESS. */
  applyTuner(pid, generation, tuner) {
    if (!Number.isFinite(pid)) return;
    const cur = this.tuners.get(pid);
    if (cur && (generation ?? 0) < cur.generation) return;
    if (tuner) this.tuners.set(pid, { pid, generation: generation ?? 0, tuner });
    else this.tuners.delete(pid);
    this.verdictsVersion++;
  }

  /**
   * Every process's breaker: the known ones, plus a CLOSED one for each
   * process the agent has not reported a transition for yet (every breaker
   * starts CLOSED and each transition is a stream event), marked `implied`.
   */
  breakerList() {
    const out = [...this.breakers.values()];
    for (const p of this.procs.values()) {
      const b = this.breakers.get(p.pid);
      if (b && b.generation >= p.generation) continue;
      out.push({
        pid: p.pid, generation: p.generation, binary: p.info.binary ?? '', comm: p.info.comm ?? '',
        breaker: { state: 'closed', since_ms: null, reason: '', transitions: 0 }, transition: null, implied: true,
      });
    }
    return out;
  }

  /** Breaker state per binary: the worst of its live processes (as /api/v1/breakers). */
  services() {
    const rank = { closed: 0, half_open: 1, open: 2 };
    const out = new Map();
    for (const b of this.breakerList()) {
      const p = this.procs.get(b.pid);
      if (!p || p.info.exited || p.generation !== b.generation || !b.binary) continue;
      const s = out.get(b.binary) ?? { binary: b.binary, state: 'closed', pids: [], openPids: [] };
      const st = b.breaker.state;
      if ((rank[st] ?? 0) > (rank[s.state] ?? 0)) s.state = st;
      s.pids.push(b.pid);
      if (st === 'open') s.openPids.push(b.pid);
      out.set(b.binary, s);
    }
    return [...out.values()].sort((a, b) => a.binary.localeCompare(b.binary));
  }

  get sloMs() {
    const v = this.status?.slo_pause_ms;
    return Number.isFinite(v) && v > 0 ? v : 5;
  }

  setStatus(s) {
    if (!s || typeof s !== 'object') return;
    this.status = s;
    this.statusAt = performance.now();
  }

  /** Replaces the process list (initial load and resync). */
  setProcesses(list) {
    const seen = new Set();
    for (const p of list) {
      seen.add(p.pid);
      this.upsertProcess(p);
    }
    for (const pid of [...this.procs.keys()]) {
      if (!seen.has(pid)) {
        this.procs.delete(pid);
        this.tableStructureChanged = true;
      }
    }
    for (const m of [this.breakers, this.tuners]) {
      for (const pid of [...m.keys()]) if (!seen.has(pid)) m.delete(pid);
    }
    this.verdictsVersion++;
  }

  /** A PROCESS object (with or without window): newer generations replace older ones. */
  upsertProcess(p) {
    if (!p || !Number.isFinite(p.pid)) return;
    const cur = this.procs.get(p.pid);
    const gen = p.generation ?? 0;
    if (cur && gen < cur.generation) return;
    if (p.tuner !== undefined) this.applyTuner(p.pid, gen, p.tuner);
    if (!cur || gen > cur.generation) {
      this.procs.set(p.pid, new Proc(p));
      this.verdictsVersion++;
      this.tableStructureChanged = true;
      if (this.selection?.pid === p.pid && this.selection.generation !== gen) {
        // pid reused: the old history is another process; the app reloads it.
        this.selection = new Selection(p.pid, gen);
        this.selection.needsLoad = true;
      }
    } else {
      if (p.exited !== undefined && !!p.exited !== !!cur.info.exited) this.verdictsVersion++;
      cur.update(p);
    }
    this.dirtyPids.add(p.pid);
  }

  /** A `window` stream event. */
  applyWindow(ev) {
    const cur = this.procs.get(ev.pid);
    if (!cur || (ev.generation ?? 0) !== cur.generation) return;
    if (ev.health) cur.health = ev.health;
    if (ev.gauges !== undefined) cur.gauges = ev.gauges;
    if (ev.window) cur.window = ev.window;
    this.dirtyPids.add(ev.pid);
  }

  /** Time (Unix ms) of a record: its time_ms, else start_ns through the learnt offset. */
  timeOf(rec) {
    if (Number.isFinite(rec.time_ms)) {
      if (this.clockOffsetMs === null && Number.isFinite(rec.start_ns)) {
        this.clockOffsetMs = rec.time_ms - rec.start_ns / 1e6;
      }
      return rec.time_ms;
    }
    if (this.clockOffsetMs !== null && Number.isFinite(rec.start_ns)) {
      return rec.start_ns / 1e6 + this.clockOffsetMs;
    }
    return Date.now();
  }

  /** A cycle of any process (stream) . */
  addCycle(pid, generation, c) {
    const t = this.timeOf(c);
    const sweep = (c.sweep_term_ns ?? 0) / 1e6;
    const markTerm = (c.mark_term_ns ?? 0) / 1e6;
    const markEnd = t + sweep + (c.mark_ns ?? 0) / 1e6;
    this.overview.push({ t, ms: sweep, pid });
    this.overview.push({ t: markEnd, ms: markTerm, pid });
    const sel = this.selection;
    if (sel && sel.pid === pid && sel.generation === (generation ?? 0)) {
      if (sel.loaded) this.addSelectedCycle(sel, c, t);
      else if (sel.pending.length < 2 * MAX_CYCLES) sel.pending.push({ c, t });
    }
  }

  addSelectedCycle(sel, c, t) {
    const ns = c.start_ns ?? t * 1e6;
    if (ns <= sel.lastCycleNs) return;  // already have it (fetched, then streamed)
    sel.lastCycleNs = ns;
    const item = { t, c, p99: null };
    sel.cycles.push(item);
    item.p99 = rollingP99(sel.cycles.items, t);
  }

  /** A non-GC stop of any process (stream). */
  addStop(pid, generation, s) {
    if (s.kind === 'sweep_termination' || s.kind === 'mark_termination') return;
    const sel = this.selection;
    if (sel && sel.pid === pid && sel.generation === (generation ?? 0)) {
      if (sel.loaded) this.addSelectedStop(sel, s);
      else if (sel.pending.length < 2 * MAX_CYCLES) sel.pending.push({ s });
    }
  }

  addSelectedStop(sel, s) {
    const t = this.timeOf(s);
    const ns = s.start_ns ?? t * 1e6;
    if (ns <= sel.lastStopNs) return;
    sel.lastStopNs = ns;
    sel.stops.push({ t, s });
  }

  /** Starts a new selection (history is loaded with loadSelection). */
  select(pid) {
    const p = this.procs.get(pid);
    this.selection = pid === null || pid === undefined ? null : new Selection(pid, p ? p.generation : 0);
    return this.selection;
  }

  /**
   * Fetched history of the selected process (oldest first), then the records
   * streamed meanwhile (duplicates are dropped by start_ns).
   */
  loadSelection(sel, cycles, stops) {
    for (const c of cycles) this.addSelectedCycle(sel, c, this.timeOf(c));
    for (const s of stops) {
      if (s.kind !== 'sweep_termination' && s.kind !== 'mark_termination') this.addSelectedStop(sel, s);
    }
    for (const r of sel.pending) {
      if (r.c) this.addSelectedCycle(sel, r.c, r.t);
      else this.addSelectedStop(sel, r.s);
    }
    sel.pending = [];
    sel.loaded = true;
  }
}

/** P99 of the GC pauses (both STW phases) of the cycles in the 10 s up to t. */
function rollingP99(items, t) {
  const vals = [];
  for (let i = items.length - 1; i >= 0 && vals.length < P99_MAX_SAMPLES; i--) {
    const it = items[i];
    if (it.t > t) continue;
    if (it.t < t - P99_WINDOW_MS) break;
    vals.push(it.c.sweep_term_ns ?? 0, it.c.mark_term_ns ?? 0);
  }
  if (vals.length === 0) return null;
  vals.sort((a, b) => a - b);
  return vals[Math.max(0, Math.ceil(vals.length * 0.99) - 1)] / 1e6;
}
