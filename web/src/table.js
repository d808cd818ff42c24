// The process table of the gcpilot dashboard. Rows are created once per
// process and updated in place (only changed cells are written), so 50
// processes refreshed a few times a second stay cheap. Each row carries
// data-pid and data-health (ok / warn / bad / idle / exited).
import { fmtBytes, fmtGogc, fmtMBps, fmtMemLimit, fmtNs, fmtNum, fmtPct } from './format.js';

const COLUMNS = [
  ['health', 'Health'],
  ['comm', 'Process'],
  ['pid', 'PID'],
  ['go', 'Go'],
  ['gcs', 'GC/s'],
  ['p99', 'P99 pause'],
  ['max', 'Max pause'],
  ['alloc', 'Alloc'],
  ['heap', 'Heap live → goal'],
  ['cpu', 'GC CPU'],
  ['gor', 'Goroutines'],
  ['tuning', 'GOGC / GOMEMLIMIT'],
  ['stops', 'Non-GC stops (10 s)'],
];

export class ProcessTable {
  /** table: a <table> element; onSelect(pid) is called when a row is chosen. */
  constructor(table, onSelect) {
    this.table = table;
    this.onSelect = onSelect;
    this.rows = new Map();  // pid -> { tr, cells: {key: td}, text: {key: string} }
    this.selectedPid = null;
    const thead = table.createTHead();
    const hr = thead.insertRow();
    for (const [key, title] of COLUMNS) {
      const th = document.createElement('th');
      th.textContent = title;
      th.className = `col-${key}`;
      hr.appendChild(th);
    }
    this.tbody = table.tBodies[0] || table.createTBody();
    this.empty = document.createElement('tr');
    this.empty.className = 'empty';
    const td = this.empty.insertCell();
    td.colSpan = COLUMNS.length;
    td.textContent = 'No Go process seen yet.';
    this.tbody.appendChild(this.empty);
    this.tbody.addEventListener('click', (e) => {
      const tr = e.target.closest('tr[data-pid]');
      if (tr) this.onSelect(Number(tr.dataset.pid));
    });
    this.tbody.addEventListener('keydown', (e) => {
      const tr = e.target.closest('tr[data-pid]');
      if (tr && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.onSelect(Number(tr.dataset.pid));
      }
    });
  }

  /** Brings the table up to date with state (DashboardState). */
  render(state) {
    if (state.tableStructureChanged) {
      this.rebuild(state);
      state.tableStructureChanged = false;
      state.dirtyPids.clear();
      return;
    }
    for (const pid of state.dirtyPids) {
      const p = state.procs.get(pid);
      const row = this.rows.get(pid);
      if (p && row) this.fill(row, p);
      else state.tableStructureChanged = true;
    }
    state.dirtyPids.clear();
    if (state.tableStructureChanged) this.render(state);
  }

  rebuild(state) {
    const procs = [...state.procs.values()].sort(compareProcs);
    for (const [pid, row] of this.rows) {
      if (!state.procs.has(pid)) {
        row.tr.remove();
        this.rows.delete(pid);
      }
    }
    this.empty.hidden = procs.length > 0;
    let prev = this.empty;
    for (const p of procs) {
      let row = this.rows.get(p.pid);
      if (!row) {
        row = this.createRow(p.pid);
        this.rows.set(p.pid, row);
      }
      this.fill(row, p);
      if (prev.nextSibling !== row.tr) prev.after(row.tr);
      prev = row.tr;
    }
    this.markSelected();
  }

  createRow(pid) {
    const tr = document.createElement('tr');
    tr.dataset.pid = String(pid);
    tr.tabIndex = 0;
    const cells = {};
    for (const [key] of COLUMNS) {
      const td = tr.insertCell();
      td.className = `col-${key}`;
      cells[key] = td;
    }
    const dot = document.createElement('span');
    dot.className = 'dot';
    const label = document.createElement('span');
    cells.health.append(dot, label);
    return { tr, cells, label, text: {} };
  }

  fill(row, p) {
    const health = p.info.exited ? 'exited' : p.health || 'idle';
    if (row.tr.dataset.health !== health) {
      row.tr.dataset.health = health;
      row.label.textContent = health;
    }
    const w = p.window || {};
    const g = p.gauges || {};
    const pause = w.pause_ns || {};
    const stops = w.other_stops || {};
    const live = g.heap_live_bytes ?? w.heap_live_bytes;
    const goal = g.heap_goal_bytes ?? w.heap_goal_bytes;
    const top = topReason(stops.by_reason);
    this.set(row, 'comm', p.info.comm || p.info.binary || '?', p.info.exe || '');
    this.set(row, 'pid', String(p.pid));
    this.set(row, 'go', p.info.go_version || '–');
    this.set(row, 'gcs', fmtNum(w.gcs_per_sec));
    this.set(row, 'p99', fmtNs(pause.count ? pause.p99 : null));
    this.set(row, 'max', fmtNs(pause.count ? pause.max : null));
    this.set(row, 'alloc', fmtMBps(w.alloc_bytes_per_sec));
    this.set(row, 'heap', live === undefined && goal === undefined ? '–' : `${fmtBytes(live)} → ${fmtBytes(goal)}`);
    this.set(row, 'cpu', fmtPct(w.gc_cpu_share));
    this.set(row, 'gor', g.goroutines ?? '–');
    this.set(row, 'tuning', `${fmtGogc(g.gogc)} / ${fmtMemLimit(g.memory_limit_bytes)}`);
    this.set(row, 'stops', stops.count ? `${stops.count} · ${top || '?'} (max ${fmtNs(stops.max_ns)})` : '0');
  }

  set(row, key, text, title) {
    text = String(text);
    if (row.text[key] === text) return;
    row.text[key] = text;
    row.cells[key].textContent = text;
    if (title !== undefined) row.cells[key].title = title;
  }

  setSelected(pid) {
    this.selectedPid = pid;
    this.markSelected();
  }

  markSelected() {
    for (const [pid, row] of this.rows) {
      const sel = pid === this.selectedPid;
      if (row.tr.classList.contains('selected') !== sel) row.tr.classList.toggle('selected', sel);
      if (sel) row.tr.setAttribute('aria-selected', 'true'); else row.tr.removeAttribute('aria-selected');
    }
  }
}

/** Live processes first, then by name and pid. */
function compareProcs(a, b) {
  const ea = a.info.exited ? 1 : 0;
  const eb = b.info.exited ? 1 : 0;
  if (ea !== eb) return ea - eb;
  const ca = a.info.comm || '';
  const cb = b.info.comm || '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.pid - b.pid;
}

/** The most frequent reason of a by_reason map, or ''. */
export function topReason(byReason) {
  let best = '';
  let n = 0;
  for (const [reason, count] of Object.entries(byReason || {})) {
    if (count > n) {
      best = reason;
      n = count;
    }
  }
  return best;
}
