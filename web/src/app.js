// Entry point of the gcpilot dashboard: loads state from the JSON API,
// follows the event stream, and redraws at most ~4 times a second (and only
// in animation frames) however fast events arrive.
//
// Read-only hook for tests and debugging, `window.gcpilotDashboard`:
//   processes()          -> [{pid, generation, comm, health, exited}] as in the table
//                           (health: ok | warn | bad | idle | exited)
//   pointsInPauseChart() -> number of points (GC pauses + non-GC stops) currently
//                           in the selected process's pause chart (0: none selected)
//   sloLineDrawn()       -> {drawn, valueMs, yPx}: whether the SLO line was drawn
//                           in the pause chart at its last draw, at which value
//                           (ms, from /api/v1/status slo_pause_ms) and CSS pixel row
//   selectedPid()        -> pid shown in the detail charts, or null
//   events()             -> counts of stream events by type (hello, process, cycle,
//                           stop, window, status, finding, breaker, tuner), plus
//                           opens (connections made), resyncs, fetchErrors,
//                           parseErrors and sse (state)
//   findings()           -> [{id, pid, detector, severity, title, active}] as the
//                           findings panel has them (active and recently cleared)
//   breakers()           -> [{pid, state, since_ms, reason}] (state: closed |
//                           half_open | open; a process without any transition
//                           yet is closed), and services() -> [{binary, state, pids}]
//   tuner()              -> [{pid, policy, gogc, memory_limit_bytes, apply, reason}]
//                           (gogc etc. null when the policy had no recommendation)
import { EventStream, getJson } from './api.js';
import { AllocChart, CpuChart, HeapChart, OverviewChart, PauseChart, PhaseChart, StopsChart } from './charts.js';
import { fmtBytes, fmtClock, fmtMemLimit, fmtMs, fmtNs, fmtUptime } from './format.js';
import { VerdictPanels } from './panels.js';
import { DashboardState, HISTORY_MS } from './store.js';
import { ProcessTable } from './table.js';

const RENDER_INTERVAL_MS = 250;
const MAX_PENDING_EVENTS = 50000;
const PAGE_LIMIT = 5000;
const MAX_PAGES = 8;

const $ = (id) => document.getElementById(id);
const state = new DashboardState();
const counters = {
  hello: 0, process: 0, cycle: 0, stop: 0, window: 0, status: 0, finding: 0, breaker: 0, tuner: 0,
  opens: 0, resyncs: 0, fetchErrors: 0, parseErrors: 0,
};
let sseState = 'connecting';
let syncing = true;        // while the JSON state loads, stream events wait in `pending`
let pending = [];
let syncSeq = 0;
let resyncTimer = null;
let charts = null;         // detail charts of the selected process
const table = new ProcessTable($('proc-table'), (pid) => selectProcess(pid, true));
const overview = new OverviewChart($('chart-overview'), () => state.sloMs);
const verdicts = new VerdictPanels($('verdicts'));

// ---- events --------------------------------------------------------------

function onEvent(type, data) {
  counters[type]++;
  if (syncing) {
    if (pending.length < MAX_PENDING_EVENTS) pending.push([type, data]);
    return;
  }
  apply(type, data);
  scheduleRender();
}

function apply(type, d) {
  switch (type) {
    case 'hello':
    case 'status':
      state.setStatus(d);
      break;
    case 'process':
      state.upsertProcess(d);
      break;
    case 'window':
      state.applyWindow(d);
      break;
    case 'cycle':
      if (d.cycle) state.addCycle(d.pid, d.generation ?? 0, d.cycle);
      break;
    case 'stop':
      if (d.stop) state.addStop(d.pid, d.generation ?? 0, d.stop);
      break;
    case 'finding':
      state.applyFinding(d);
      break;
    case 'breaker':
      state.applyBreaker(d);
      break;
    case 'tuner':
      state.applyTuner(d.pid, d.generation ?? 0, d.tuner);
      break;
    default:
      break;
  }
}

const stream = new EventStream('api/v1/stream', {
  onEvent,
  onState: (s) => {
    sseState = s;
    scheduleRender();
  },
  onOpen: (n) => {
    counters.opens++;
    if (n > 0) counters.resyncs++;
    resync();
  },
});

// ---- loading state -------------------------------------------------------

/**
 * (Re)loads status, processes (with their tuner objects), findings, breakers
 * and the selected process's history, then replays buffered events.
 */
async function resync() {
  clearTimeout(resyncTimer);
  const seq = ++syncSeq;
  syncing = true;
  try {
    const [status, procs, findings, breakers] = await Promise.all([
      getJson('status'), getJson('processes'), getJson('findings?limit=50'), getJson('breakers'),
    ]);
    if (seq !== syncSeq) return;
    state.setStatus(status);
    state.setProcesses(Array.isArray(procs.processes) ? procs.processes : []);
    state.setFindings(findings);
    state.setBreakers(breakers);
    showBanner('');
    const want = pidFromHash() ?? state.selection?.pid ?? defaultPid();
    syncing = false;
    replayPending();
    await selectProcess(want !== null && state.procs.has(want) ? want : defaultPid(), false);
  } catch (e) {
    if (seq !== syncSeq) return;
    counters.fetchErrors++;
    console.warn('gcpilot: loading state failed:', e);
    showBanner(`Cannot load state from the agent (${e.message}); retrying.`);
    syncing = false;
    replayPending();
    resyncTimer = setTimeout(resync, 3000);
  }
  scheduleRender();
}

function replayPending() {
  const evs = pending;
  pending = [];
  for (const [type, data] of evs) apply(type, data);
}

/** The process to show first: the least healthy live one, then the busiest. */
function defaultPid() {
  const rank = { bad: 0, warn: 1, ok: 2, idle: 3, exited: 4 };
  let best = null;
  for (const p of state.procs.values()) {
    const r = p.info.exited ? 4 : (rank[p.health] ?? 3);
    const busy = p.window?.gcs_per_sec ?? 0;
    if (!best || r < best.r || (r === best.r && busy > best.busy)) best = { pid: p.pid, r, busy };
  }
  return best ? best.pid : null;
}

/** Fetches every page of a paged list (oldest first) since `sinceMs`. */
async function fetchPaged(path, key, sinceMs, isCurrent) {
  const out = [];
  let query = `limit=${PAGE_LIMIT}&since_ms=${Math.floor(sinceMs)}`;
  for (let page = 0; page < MAX_PAGES && isCurrent(); page++) {
    const res = await getJson(`${path}?${query}`);
    const items = Array.isArray(res[key]) ? res[key] : [];
    out.push(...items);
    if (!res.more || items.length === 0 || res.next_after === undefined) break;
    query = `limit=${PAGE_LIMIT}&after=${res.next_after}`;
  }
  return out;
}

/** Shows `pid` in the detail charts (null: none) and loads its history. */
async function selectProcess(pid, fromUser) {
  if (pid === null || pid === undefined) {
    state.select(null);
    table.setSelected(null);
    showDetail(null);
    return;
  }
  const sel = state.select(pid);
  table.setSelected(pid);
  if (fromUser) history.replaceState(null, '', `#pid=${pid}`);
  showDetail(pid);
  scheduleRender();
  const isCurrent = () => state.selection === sel;
  const since = Date.now() - HISTORY_MS;
  try {
    const [cycles, stops] = await Promise.all([
      fetchPaged(`processes/${pid}/cycles`, 'cycles', since, isCurrent),
      fetchPaged(`processes/${pid}/stops`, 'stops', since, isCurrent),
    ]);
    if (!isCurrent()) return;
    state.loadSelection(sel, cycles, stops);
  } catch (e) {
    if (!isCurrent()) return;
    counters.fetchErrors++;
    console.warn(`gcpilot: loading the history of pid ${pid} failed:`, e);
    state.loadSelection(sel, [], []);  // keep following the stream
  }
  scheduleRender();
}

function pidFromHash() {
  const m = /pid=(\d+)/.exec(location.hash);
  return m ? Number(m[1]) : null;
}

window.addEventListener('hashchange', () => {
  const pid = pidFromHash();
  if (pid !== null && pid !== state.selection?.pid) selectProcess(pid, false);
});

// ---- rendering -----------------------------------------------------------

let renderQueued = false;
let lastRender = 0;

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  const wait = Math.max(0, RENDER_INTERVAL_MS - (performance.now() - lastRender));
  setTimeout(() => requestAnimationFrame(render), wait);
}

function render() {
  renderQueued = false;
  lastRender = performance.now();
  renderHeader();
  table.render(state);
  overview.update(state.overview, state.selection?.pid ?? null);
  renderOverviewSpan();
  verdicts.render(state, state.selection?.pid ?? null);
  const sel = state.selection;
  if (sel && sel.needsLoad) {
    sel.needsLoad = false;
    selectProcess(sel.pid, false);
    return;
  }
  if (charts && sel && sel.loaded) {
    renderDetailMeta(sel);
    for (const c of Object.values(charts)) c.update(sel);
    renderStops(sel);
  }
}

function setText(el, text) {
  text = String(text);
  if (el.textContent !== text) el.textContent = text;
}

function renderHeader() {
  const s = state.status;
  const sse = $('st-sse');
  if (sse.dataset.state !== sseState) {
    sse.dataset.state = sseState;
    sse.textContent = sseState;
  }
  if (!s) return;
  setText($('st-version'), s.version ? `v${s.version}` : '');
  setText($('st-source'), s.source ?? '–');
  let live = 0;
  for (const p of state.procs.values()) if (!p.info.exited) live++;
  setText($('st-procs'), `${live} live / ${state.procs.size}`);
  const st = s.stats || {};
  const drops = (st.drops ?? 0) + (st.missed ?? 0);
  setText($('st-drops'), drops);
  $('st-drops').classList.toggle('alert', drops > 0);
  setText($('st-slo'), fmtMs(state.sloMs));
  const up = (s.uptime_s ?? 0) + (performance.now() - state.statusAt) / 1000;
  setText($('st-uptime'), fmtUptime(up));
}

/** The overview keeps 2 min or 6000 pauses: say which span it shows. */
function renderOverviewSpan() {
  const items = state.overview.items;
  const span = items.length > 1 ? (items[items.length - 1].t - items[0].t) / 1000 : 0;
  const text = span >= 100 ? `${Math.round(span / 60)} min` : `${Math.max(1, Math.round(span))} s`;
  setText($('overview-span'), items.length ? `(last ${text}, ${items.length} pauses; log scale)` : '(log scale)');
}

function showDetail(pid) {
  const section = $('detail');
  if (pid === null) {
    section.hidden = true;
    if (charts) for (const c of Object.values(charts)) c.destroy();
    charts = null;
    return;
  }
  section.hidden = false;
  if (charts) {
    for (const c of Object.values(charts)) c.reset();
  } else {
    charts = {
      pause: new PauseChart($('chart-pause'), () => state.sloMs),
      phases: new PhaseChart($('chart-phases')),
      heap: new HeapChart($('chart-heap')),
      cpu: new CpuChart($('chart-cpu')),
      alloc: new AllocChart($('chart-alloc')),
      stops: new StopsChart($('chart-stops')),
    };
  }
  setText($('detail-title'), `pid ${pid}`);
}

function renderDetailMeta(sel) {
  const p = state.procs.get(sel.pid);
  if (!p) return;
  const i = p.info;
  const g = p.gauges || {};
  setText($('detail-title'), `${i.comm || i.binary || '?'} · pid ${p.pid}`);
  const parts = [
    i.exe || '',
    i.go_version || '',
    i.container ? `container ${i.container}` : '',
    g.gomaxprocs ? `GOMAXPROCS ${g.gomaxprocs}` : '',
    g.heap_live_bytes !== undefined && g.heap_live_bytes !== null ? `heap ${fmtBytes(g.heap_live_bytes)} → ${fmtBytes(g.heap_goal_bytes)}` : '',
    g.memory_limit_bytes !== undefined && g.memory_limit_bytes !== null ? `GOMEMLIMIT ${fmtMemLimit(g.memory_limit_bytes)}` : '',
    i.exited ? `exited${i.exit ? ` (code ${i.exit.code}, signal ${i.exit.signal})` : ''}` : '',
    `${sel.cycles.length} cycles, ${sel.stops.length} non-GC stops shown`,
  ];
  setText($('detail-meta'), parts.filter(Boolean).join(' · '));
}

let stopsVersion = -1;
function renderStops(sel) {
  if (sel.stops.version === stopsVersion) return;
  stopsVersion = sel.stops.version;
  const counts = new Map();
  for (const it of sel.stops.items) counts.set(it.s.reason, (counts.get(it.s.reason) || 0) + 1);
  const summary = [...counts].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(' · ');
  setText($('stops-summary'), summary ? `(${summary})` : '');
  const tbody = $('stops-recent').tBodies[0];
  const recent = sel.stops.items.slice(-10).reverse();
  const rows = recent.map((it) => {
    const tr = document.createElement('tr');
    for (const text of [fmtClock(it.t), it.s.reason || '?', fmtNs(it.s.duration_ns)]) {
      tr.insertCell().textContent = text;
    }
    return tr;
  });
  tbody.replaceChildren(...rows);
}

function showBanner(text) {
  const b = $('banner');
  b.hidden = !text;
  setText(b, text);
}

// ---- hook and start ------------------------------------------------------

window.gcpilotDashboard = Object.freeze({
  processes: () => [...state.procs.values()].map((p) => ({
    pid: p.pid,
    generation: p.generation,
    comm: p.info.comm ?? '',
    health: p.info.exited ? 'exited' : p.health,
    exited: !!p.info.exited,
  })),
  pointsInPauseChart: () => (charts ? charts.pause.points : 0),
  sloLineDrawn: () => (charts ? { ...charts.pause.slo } : { drawn: false, valueMs: state.sloMs, yPx: null }),
  selectedPid: () => state.selection?.pid ?? null,
  events: () => ({ ...counters, parseErrors: stream.parseErrors, sse: sseState }),
  findings: () => [...state.findings.values()].map((f) => ({
    id: f.id, pid: f.pid, detector: f.detector, severity: f.severity, title: f.title, active: !!f.active,
  })),
  breakers: () => state.breakerList().map((b) => ({
    pid: b.pid, state: b.breaker.state, since_ms: b.breaker.since_ms ?? null, reason: b.breaker.reason ?? '',
  })),
  services: () => state.services().map((s) => ({ binary: s.binary, state: s.state, pids: [...s.pids] })),
  tuner: () => [...state.tuners.values()].map(({ pid, tuner: t }) => ({
    pid,
    policy: t.recommendation?.policy ?? t.policy ?? '',
    gogc: t.recommendation?.gogc ?? null,
    memory_limit_bytes: t.recommendation?.memory_limit_bytes ?? null,
    apply: !!t.apply,
    reason: t.recommendation?.reason ?? t.error?.error ?? '',
  })),
});

// A row of a verdict panel selects its process (not a click on the fix text).
$('verdicts').addEventListener('click', (e) => {
  const tr = e.target.closest('tr[data-pid]');
  if (!tr || e.target.closest('details')) return;
  const pid = Number(tr.dataset.pid);
  if (state.procs.has(pid)) selectProcess(pid, true);
});

const hideExited = $('hide-exited');
hideExited.checked = localStorage.getItem('gcpilot.hideExited') === '1';
$('proc-table').classList.toggle('hide-exited', hideExited.checked);
$('verdicts').classList.toggle('hide-exited', hideExited.checked);
hideExited.addEventListener('change', () => {
  $('proc-table').classList.toggle('hide-exited', hideExited.checked);
  $('verdicts').classList.toggle('hide-exited', hideExited.checked);
  localStorage.setItem('gcpilot.hideExited', hideExited.checked ? '1' : '0');
});

setInterval(scheduleRender, 1000);  // uptime ticks even when nothing happens
stream.start();
// Normally the first connection triggers the load; without a stream (a proxy
// that buffers it, say) show the state anyway.
setTimeout(() => {
  if (counters.opens === 0) resync();
}, 5000);
