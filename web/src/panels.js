// The verdict panels of the gcpilot dashboard: detector findings (active and
// recently cleared), the GC-jitter breaker of every process and service, and
// the tuner's recommendation per process. They are rebuilt from
// DashboardState only when its verdictsVersion changed (or every few seconds,
// for the "for 2 min" durations); a finding's fix text stays expanded across
// rebuilds. Rows carry data attributes for tests: findings data-id, data-pid,
// data-detector, data-severity, data-active ("1"/"0"); breakers data-pid,
// data-state (closed / half_open / open); services data-binary, data-state;
// data-implied="1" when no transition was reported (CLOSED from the start);
// breaker and tuner rows of exited processes data-exited="1" (hidden with
// "hide exited");
// tuner data-pid, data-mode (apply / dry-run / error), data-policy.
import { fmtClock, fmtGogc, fmtMemLimit, fmtUptime } from './format.js';

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };
const STATE_TEXT = { closed: 'CLOSED', half_open: 'HALF_OPEN', open: 'OPEN' };
const REFRESH_MS = 5000;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'data') Object.assign(e.dataset, v);
    else if (k === 'title') e.title = v;
    else e[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined || c === '') continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function badge(cls, text, data = {}) {
  return el('span', { class: `badge ${cls}`, data }, text);
}

function processLabel(state, pid, comm) {
  const p = state.procs.get(pid);
  const name = comm || p?.info.comm || p?.info.binary || '?';
  const exited = p ? !!p.info.exited : true;
  return el('span', { class: exited ? 'gone' : '' }, `${name} · ${pid}`, exited ? ' (exited)' : '');
}

/** "12:03:04.120 (2 min 3 s ago)" */
function since(ms, now) {
  if (!Number.isFinite(ms)) return '–';
  return `${fmtClock(ms)} (${fmtUptime((now - ms) / 1000)} ago)`;
}

/** A few of a finding's evidence numbers: its time range and cycles. */
function evidenceLine(ev) {
  if (!ev || typeof ev !== 'object') return '';
  const parts = [];
  if (ev.rule) parts.push(`rule ${ev.rule}`);
  const w = ev.window;
  if (w && Number.isFinite(w.start_ms) && Number.isFinite(w.end_ms)) {
    parts.push(`window ${w.view ?? ''} ${fmtClock(w.start_ms)}–${fmtClock(w.end_ms)}`.replace('  ', ' '));
  }
  const c = ev.cycles;
  if (c && Number.isFinite(c.count)) parts.push(`${c.count} cycles (gc ${c.first}–${c.last})`);
  if (ev.needs) parts.push(`needs ${ev.needs}`);
  return parts.join(' · ');
}

export class VerdictPanels {
  /** root: an element holding #findings-table, #breakers-table, #breaker-services, #tuner-table. */
  constructor(root) {
    this.root = root;
    this.version = -1;
    this.lastRender = 0;
    this.openFixes = new Set();  // finding ids whose fix is expanded
    this.selectedPid = null;
    root.addEventListener('toggle', (e) => {
      const d = e.target;
      if (!(d instanceof HTMLDetailsElement) || !d.dataset.findingId) return;
      const id = Number(d.dataset.findingId);
      if (d.open) this.openFixes.add(id); else this.openFixes.delete(id);
    }, true);
  }

  render(state, selectedPid) {
    const now = Date.now();
    if (state.verdictsVersion === this.version && selectedPid === this.selectedPid &&
        now - this.lastRender < REFRESH_MS) return;
    this.version = state.verdictsVersion;
    this.selectedPid = selectedPid;
    this.lastRender = now;
    this.renderFindings(state, now);
    this.renderBreakers(state, now);
    this.renderTuner(state);
  }

  rowClass(pid) {
    return pid === this.selectedPid ? 'sel' : '';
  }

  renderFindings(state, now) {
    const all = [...state.findings.values()];
    const active = all.filter((f) => f.active).sort((a, b) =>
      (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) || (b.raised_ms ?? 0) - (a.raised_ms ?? 0));
    const cleared = all.filter((f) => !f.active).sort((a, b) => (b.cleared_ms ?? 0) - (a.cleared_ms ?? 0));
    const rows = [...active, ...cleared].map((f) => {
      const fix = el('details', { data: { findingId: String(f.id) } }, el('summary', {}, 'suggested fix'), el('p', {}, f.fix || '–'));
      fix.open = this.openFixes.has(f.id);
      const when = f.active
        ? el('td', { class: 'when' }, `since ${since(f.raised_ms, now)}`)
        : el('td', { class: 'when' }, `${fmtClock(f.raised_ms)} – cleared ${since(f.cleared_ms, now)}`,
          f.clear_reason ? el('div', { class: 'muted' }, f.clear_reason) : null);
      const tr = el('tr', {
        class: `${f.active ? 'active' : 'cleared'} ${this.rowClass(f.pid)}`,
        data: { id: String(f.id), pid: String(f.pid), detector: f.detector, severity: f.severity, active: f.active ? '1' : '0' },
      },
      el('td', {}, badge(f.active ? 'st-active' : 'st-cleared', f.active ? 'active' : 'cleared')),
      el('td', {}, badge(`sev-${f.severity}`, f.severity)),
      el('td', { class: 'detector' }, f.detector),
      el('td', {}, processLabel(state, f.pid, f.comm)),
      el('td', { class: 'text' }, el('strong', { class: 'title' }, f.title), el('div', { class: 'summary' }, f.summary),
        el('div', { class: 'evidence muted' }, evidenceLine(f.evidence)), fix),
      when);
      return tr;
    });
    if (rows.length === 0) rows.push(el('tr', { class: 'empty' }, el('td', { colSpan: 6 }, 'No finding yet: no detector has seen its pattern.')));
    this.root.querySelector('#findings-table').tBodies[0].replaceChildren(...rows);
    const crit = active.filter((f) => f.severity === 'critical').length;
    this.root.querySelector('#findings-summary').textContent =
      `(${active.length} active${crit ? `, ${crit} critical` : ''}, ${cleared.length} recently cleared)`;
  }

  renderBreakers(state, now) {
    const services = state.services();
    const chips = services.map((s) => el('span', { class: 'service', data: { binary: s.binary, state: s.state } },
      badge(`br-${s.state}`, STATE_TEXT[s.state] ?? s.state), ` ${s.binary}`,
      el('span', { class: 'muted' }, s.openPids.length ? ` (open: ${s.openPids.join(', ')})` : ` (${s.pids.length} process${s.pids.length === 1 ? '' : 'es'})`)));
    if (chips.length === 0) chips.push(el('span', { class: 'muted' }, 'No service yet.'));
    this.root.querySelector('#breaker-services').replaceChildren(...chips);
    const rank = { open: 0, half_open: 1, closed: 2 };
    const gone = (pid) => (state.procs.get(pid)?.info.exited ? 1 : 0);
    const list = state.breakerList().sort((a, b) => gone(a.pid) - gone(b.pid) ||
      (rank[a.breaker.state] ?? 3) - (rank[b.breaker.state] ?? 3) || a.pid - b.pid);
    const rows = list.map((b) => {
      const br = b.breaker;
      const tr = b.transition;
      const last = tr
        ? `${STATE_TEXT[tr.from] ?? tr.from} → ${STATE_TEXT[tr.to] ?? tr.to} at ${fmtClock(tr.at_ms)}`
        : (br.transitions ? `${br.transitions} transitions` : 'never tripped');
      const extra = { ...(b.implied ? { implied: '1' } : {}), ...(gone(b.pid) ? { exited: '1' } : {}) };
      return el('tr', { class: this.rowClass(b.pid), data: { pid: String(b.pid), state: br.state, ...extra } },
        el('td', {}, processLabel(state, b.pid, b.comm)),
        el('td', {}, badge(`br-${br.state}`, STATE_TEXT[br.state] ?? br.state)),
        el('td', { class: 'when' }, Number.isFinite(br.since_ms) ? since(br.since_ms, now) : '–'),
        el('td', { class: 'text' }, last, el('div', { class: 'reason muted' }, br.reason || tr?.reason || '')),
        el('td', {}, Number.isFinite(br.last_p99_ms) ? `${br.last_p99_ms.toFixed(2)} / ${br.threshold_ms} ms` : '–'));
    });
    if (rows.length === 0) rows.push(el('tr', { class: 'empty' }, el('td', { colSpan: 5 }, 'No breaker yet.')));
    this.root.querySelector('#breakers-table').tBodies[0].replaceChildren(...rows);
    const open = list.filter((b) => b.breaker.state === 'open').length;
    this.root.querySelector('#breakers-summary').textContent = `(${open} open of ${list.length})`;
  }

  renderTuner(state) {
    const gone = (pid) => (state.procs.get(pid)?.info.exited ? 1 : 0);
    const list = [...state.tuners.values()].sort((a, b) => gone(a.pid) - gone(b.pid) || a.pid - b.pid);
    let policy = '';
    const rows = list.map(({ pid, tuner: t }) => {
      const p = state.procs.get(pid);
      policy = t.policy || policy;
      const r = t.recommendation;
      const mode = r ? (t.apply ? 'apply' : 'dry-run') : 'error';
      const act = p?.info.actuator;
      let modeText;
      if (!r) modeText = badge('tn-error', 'no recommendation');
      else if (!t.apply) modeText = badge('tn-dry', 'dry run');
      else if (act && act.revision === r.revision) modeText = badge('tn-applied', 'applied');
      else modeText = badge('tn-apply', act ? 'applying' : 'apply (no actuator)');
      const cur = r?.current ?? {};
      const gogc = r ? `${fmtGogc(cur.gogc)} → ${fmtGogc(r.gogc)}` : '–';
      const limit = r ? `${fmtLimit(cur.memory_limit_bytes)} → ${fmtLimit(r.memory_limit_bytes)}` : '–';
      const flags = r ? [r.change ? '' : 'no change', r.held ? 'held (hysteresis)' : ''].filter(Boolean).join(', ') : '';
      const exited = gone(pid) ? { exited: '1' } : {};
      return el('tr', { class: this.rowClass(pid), data: { pid: String(pid), mode, policy: r?.policy ?? t.policy ?? '', ...exited } },
        el('td', {}, processLabel(state, pid, null)),
        el('td', {}, r?.policy ?? t.policy ?? '–'),
        el('td', { class: 'gogc' }, gogc),
        el('td', { class: 'limit' }, limit),
        el('td', {}, modeText, flags ? el('div', { class: 'muted' }, flags) : null),
        el('td', { class: 'text' },
          r ? el('div', { class: 'reason' }, r.reason) : el('div', { class: 'reason' }, t.error?.error ?? 'unknown error'),
          r?.effect?.text ? el('div', { class: 'effect muted' }, `expected: ${r.effect.text}`) : null));
    });
    if (rows.length === 0) rows.push(el('tr', { class: 'empty' }, el('td', { colSpan: 6 }, 'No recommendation yet (the tuner runs every 5 s; off when [tuner] policy = "off").')));
    this.root.querySelector('#tuner-table').tBodies[0].replaceChildren(...rows);
    this.root.querySelector('#tuner-summary').textContent = policy ? `(policy ${policy})` : '';
  }
}

function fmtLimit(b) {
  return b === null || b === undefined ? 'none' : fmtMemLimit(b);
}
