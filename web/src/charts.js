// uPlot charts of the gcpilot dashboard: the STW pause chart (with a rolling
// P99 and the SLO line), the GC phase timeline, heap live vs goal, the GC CPU
// split, the allocation rate, non-GC stops, and the all-process overview.
// Each chart turns bounded buffers (store.js) into uPlot's column arrays and
// is redrawn only when its data changed. Time axes are in Unix seconds
// (uPlot's default unit; records carry Unix ms). uPlot comes from the IIFE
// build loaded by index.html (global `uPlot`).
/* global uPlot */
import { fmtBytes, fmtClock, fmtMs, fmtNum } from './format.js';

export const COLORS = {
  sweep: '#4ea1ff',
  markTerm: '#c58cff',
  other: '#ffb347',
  p99: '#f2f2f2',
  slo: '#ff5c5c',
  mark: '#2f6f5e',
  live: '#3ecf8e',
  goal: '#e0c341',
  assist: '#ff7a59',
  background: '#4ea1ff',
  idle: '#6b7a90',
  stw: '#ff5c5c',
  alloc: '#3ecf8e',
  others: 'rgba(160, 170, 190, 0.55)',
  selected: '#4ea1ff',
};
const REASON_COLORS = ['#ffb347', '#ff7a59', '#e0c341', '#c58cff', '#3ecf8e', '#4ea1ff', '#ff5c9d',
  '#9ad0ff', '#b0e57c', '#f2f2f2', '#d4a373'];

// Axis steps for byte values: powers of two of KB, MB and GB.
const BYTE_INCRS = [1024, 1048576, 1073741824].flatMap((u) => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((k) => k * u));

const AXIS = {
  stroke: '#9aa4b2',
  grid: { stroke: 'rgba(255,255,255,0.07)', width: 1 },
  ticks: { stroke: 'rgba(255,255,255,0.15)', width: 1 },
};

/** A uPlot chart in a container that follows the container's width. */
class LiveChart {
  constructor(el, height, makeOpts) {
    this.el = el;
    this.height = height;
    this.makeOpts = makeOpts;
    this.u = null;
    this.version = -1;
    this.points = 0;
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(el);
  }

  width() { return Math.max(240, Math.floor(this.el.clientWidth)); }

  setData(data) {
    if (!this.u) {
      this.u = new uPlot(this.makeOpts(this.width(), this.height), data, this.el);
    } else {
      this.u.setData(data);
    }
  }

  resize() {
    if (!this.u) return;
    const w = this.width();
    if (w !== this.u.width) this.u.setSize({ width: w, height: this.height });
  }

  /** Drops the uPlot instance (series changed); the next setData makes a new one. */
  reset() {
    if (this.u) this.u.destroy();
    this.u = null;
    this.version = -1;
  }

  destroy() {
    this.ro.disconnect();
    this.reset();
  }
}

function timeAxes(yValues, ySize = 64) {
  return [
    { ...AXIS, space: 70 },
    { ...AXIS, size: ySize, values: (u, splits) => splits.map(yValues) },
  ];
}

function pointSeries(label, color, value = (u, v) => fmtMs(v)) {
  return {
    label,
    stroke: color,
    fill: color,
    width: 0,
    paths: () => null,
    points: { show: true, size: 5, width: 0, stroke: color, fill: color },
    value,
  };
}

function lineSeries(label, color, extra = {}) {
  return { label, stroke: color, width: 1.5, points: { show: false }, ...extra };
}

/** A log range covering the data and the SLO, in whole decades. */
function logRange(min, max, slo) {
  const lo = Math.min(Number.isFinite(min) && min > 0 ? min : slo / 100, slo / 10);
  const hi = Math.max(Number.isFinite(max) && max > 0 ? max : slo, slo * 1.5);
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
}

/** Keeps positive values for a log scale (a 0 ns pause cannot be drawn). */
function pos(ms) {
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/**
 * Draws the SLO as a dashed horizontal line across the plot and records where
 * (`target.slo` = {drawn, valueMs, yPx}) for the test hook.
 */
function sloHook(target, getSlo) {
  return (u) => {
    const v = getSlo();
    const y = u.valToPos(v, 'y', true);
    const { left, top, width, height } = u.bbox;
    if (!Number.isFinite(y) || y < top - 0.5 || y > top + height + 0.5) {
      target.slo = { drawn: false, valueMs: v, yPx: null };
      return;
    }
    const ctx = u.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.strokeStyle = COLORS.slo;
    ctx.lineWidth = 1.5 * dpr;
    ctx.setLineDash([6 * dpr, 4 * dpr]);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = COLORS.slo;
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    ctx.fillText(`SLO ${fmtMs(v)}`, left + width - 4 * dpr, y - 4 * dpr);
    ctx.restore();
    target.slo = { drawn: true, valueMs: v, yPx: u.valToPos(v, 'y', false) };
  };
}

function transpose(rows, n) {
  const cols = Array.from({ length: n }, () => new Array(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    for (let j = 0; j < n; j++) cols[j][i] = r[j];
  }
  return cols;
}

function countNonNull(data, from, to) {
  let n = 0;
  for (let s = from; s <= to; s++) {
    for (const v of data[s] || []) if (v !== null && v !== undefined) n++;
  }
  return n;
}

/** Pause chart of the selected process: GC pauses by phase, non-GC stops, rolling P99, SLO. */
export class PauseChart extends LiveChart {
  constructor(el, getSlo) {
    super(el, 280, (width, height) => ({
      width,
      height,
      cursor: { sync: { key: 'gcpilot-process' } },
      scales: { x: { time: true }, y: { distr: 3, range: (u, min, max) => logRange(min, max, getSlo()) } },
      series: [
        { value: (u, v) => (v === null || v === undefined ? '–' : fmtClock(v * 1000)) },
        pointSeries('sweep termination', COLORS.sweep),
        pointSeries('mark termination', COLORS.markTerm),
        pointSeries('non-GC stop', COLORS.other),
        lineSeries('rolling P99 (10 s)', COLORS.p99, { spanGaps: true, value: (u, v) => fmtMs(v) }),
      ],
      axes: timeAxes(fmtMs),
      hooks: { draw: [sloHook(this, getSlo)] },
    }));
    this.slo = { drawn: false, valueMs: getSlo(), yPx: null };
  }

  update(sel) {
    const version = sel.cycles.version * 1e6 + sel.stops.version;
    if (version === this.version && this.u) return;
    this.version = version;
    const rows = [];
    for (const it of sel.cycles.items) {
      const c = it.c;
      rows.push([it.t / 1e3, pos((c.sweep_term_ns ?? 0) / 1e6), null, null, it.p99]);
      const markTermAt = it.t + ((c.sweep_term_ns ?? 0) + (c.mark_ns ?? 0)) / 1e6;
      rows.push([markTermAt / 1e3, null, pos((c.mark_term_ns ?? 0) / 1e6), null, it.p99]);
    }
    for (const it of sel.stops.items) rows.push([it.t / 1e3, null, null, pos(it.s.duration_ns / 1e6), null]);
    rows.sort((a, b) => a[0] - b[0]);
    const data = transpose(rows, 5);
    this.points = countNonNull(data, 1, 3);
    this.setData(data);
  }
}

/** Overview: the pauses of every process; the selected one highlighted. */
export class OverviewChart extends LiveChart {
  constructor(el, getSlo) {
    super(el, 200, (width, height) => ({
      width,
      height,
      scales: { x: { time: true }, y: { distr: 3, range: (u, min, max) => logRange(min, max, getSlo()) } },
      series: [
        { value: (u, v) => (v === null || v === undefined ? '–' : fmtClock(v * 1000)) },
        pointSeries('GC pauses, all processes', COLORS.others),
        pointSeries('selected process', COLORS.selected),
      ],
      axes: timeAxes(fmtMs),
      hooks: { draw: [sloHook(this, getSlo)] },
    }));
    this.slo = { drawn: false, valueMs: getSlo(), yPx: null };
    this.selectedPid = null;
  }

  update(overview, selectedPid) {
    const version = overview.version;
    if (version === this.version && selectedPid === this.selectedPid && this.u) return;
    this.version = version;
    this.selectedPid = selectedPid;
    const items = overview.items;
    const x = new Array(items.length);
    const others = new Array(items.length);
    const sel = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      x[i] = it.t / 1e3;
      const v = pos(it.ms);
      if (it.pid === selectedPid) {
        sel[i] = v;
        others[i] = null;
      } else {
        others[i] = v;
        sel[i] = null;
      }
    }
    const data = [x, others, sel];
    this.points = countNonNull(data, 1, 2);
    this.setData(data);
  }
}

const PHASE_CYCLES = 200;

/** Per cycle (last 200): sweep termination, concurrent mark and mark termination, stacked. */
export class PhaseChart extends LiveChart {
  constructor(el) {
    const raw = { sweep: [], mark: [], markTerm: [] };
    const bars = uPlot.paths.bars({ size: [0.8, 24], gap: 1 });
    const bar = (label, color, key) => ({
      label,
      stroke: color,
      fill: color,
      width: 0,
      paths: bars,
      points: { show: false },
      value: (u, v, si, i) => (i === null || i === undefined ? '–' : fmtMs(raw[key][i])),
    });
    super(el, 220, (width, height) => ({
      width,
      height,
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(max * 1.05, 0.01)] } },
      series: [
        { label: 'GC', value: (u, v) => (v === null ? '–' : `#${v}`) },
        // Drawn in this order: the total first, smaller partial sums over it.
        bar('mark termination (STW)', COLORS.markTerm, 'markTerm'),
        bar('concurrent mark', COLORS.mark, 'mark'),
        bar('sweep termination (STW)', COLORS.sweep, 'sweep'),
      ],
      axes: [{ ...AXIS, values: (u, splits) => splits.map((v) => `#${v}`) },
        { ...AXIS, size: 64, values: (u, splits) => splits.map(fmtMs) }],
    }));
    this.raw = raw;
  }

  update(sel) {
    const version = sel.cycles.version;
    if (version === this.version && this.u) return;
    this.version = version;
    const items = sel.cycles.items.slice(-PHASE_CYCLES);
    let ascending = true;
    for (let i = 0; i < items.length; i++) {
      const g = items[i].c.gc;
      if (!Number.isFinite(g) || (i > 0 && g <= items[i - 1].c.gc)) ascending = false;
    }
    const n = items.length;
    const x = new Array(n);
    const total = new Array(n);
    const sweepMark = new Array(n);
    const sweepOnly = new Array(n);
    this.raw.sweep = new Array(n);
    this.raw.mark = new Array(n);
    this.raw.markTerm = new Array(n);
    for (let i = 0; i < n; i++) {
      const c = items[i].c;
      const s = (c.sweep_term_ns ?? 0) / 1e6;
      const m = (c.mark_ns ?? 0) / 1e6;
      const t = (c.mark_term_ns ?? 0) / 1e6;
      x[i] = ascending ? c.gc : i;
      this.raw.sweep[i] = s;
      this.raw.mark[i] = m;
      this.raw.markTerm[i] = t;
      sweepOnly[i] = s;
      sweepMark[i] = s + m;
      total[i] = s + m + t;
    }
    this.setData([x, total, sweepMark, sweepOnly]);
  }
}

/** Heap marked live by each cycle and the heap goal. */
export class HeapChart extends LiveChart {
  constructor(el) {
    super(el, 200, (width, height) => ({
      width,
      height,
      cursor: { sync: { key: 'gcpilot-process' } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max * 1.1, 1024)] } },
      series: [
        { value: (u, v) => (v === null || v === undefined ? '–' : fmtClock(v * 1000)) },
        lineSeries('heap live', COLORS.live, { fill: 'rgba(62, 207, 142, 0.15)', value: (u, v) => fmtBytes(v) }),
        lineSeries('heap goal', COLORS.goal, { dash: [5, 4], value: (u, v) => fmtBytes(v) }),
      ],
      axes: (() => {
        const a = timeAxes(fmtBytes, 70);
        a[1].incrs = BYTE_INCRS;
        return a;
      })(),
    }));
  }

  update(sel) {
    if (sel.cycles.version === this.version && this.u) return;
    this.version = sel.cycles.version;
    const items = sel.cycles.items;
    this.setData([items.map((it) => it.t / 1e3), items.map((it) => it.c.heap_live_bytes ?? null),
      items.map((it) => it.c.heap_goal_bytes ?? null)]);
  }
}

/** GC CPU per second (sum of the cycles that started in it), as a share of GOMAXPROCS x 1 s. */
export class CpuChart extends LiveChart {
  constructor(el) {
    const raw = { stw: [], assist: [], background: [], idle: [] };
    const bars = uPlot.paths.bars({ size: [0.9, 40], gap: 1 });
    const bar = (label, color, key) => ({
      label,
      stroke: color,
      fill: color,
      width: 0,
      paths: bars,
      points: { show: false },
      value: (u, v, si, i) => (i === null || i === undefined ? '–' : `${fmtNum(raw[key][i] * 100)} %`),
    });
    super(el, 200, (width, height) => ({
      width,
      height,
      cursor: { sync: { key: 'gcpilot-process' } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max * 1.1, 0.01)] } },
      series: [
        { value: (u, v) => (v === null || v === undefined ? '–' : fmtClock(v * 1000)) },
        bar('idle mark', COLORS.idle, 'idle'),
        bar('background mark', COLORS.background, 'background'),
        bar('assist', COLORS.assist, 'assist'),
        bar('STW (sweep + mark term.)', COLORS.stw, 'stw'),
      ],
      axes: timeAxes((v) => `${fmtNum(v * 100)} %`),
    }));
    this.raw = raw;
  }

  update(sel) {
    if (sel.cycles.version === this.version && this.u) return;
    this.version = sel.cycles.version;
    const buckets = new Map();
    for (const it of sel.cycles.items) {
      const c = it.c;
      const sec = Math.floor(it.t / 1000) * 1000;
      let b = buckets.get(sec);
      if (!b) {
        b = { stw: 0, assist: 0, background: 0, idle: 0, procs: 1 };
        buckets.set(sec, b);
      }
      b.stw += (c.cpu_sweep_term_ns ?? 0) + (c.cpu_mark_term_ns ?? 0);
      b.assist += c.cpu_assist_ns ?? 0;
      b.background += c.cpu_background_ns ?? 0;
      b.idle += c.cpu_idle_ns ?? 0;
      b.procs = Math.max(b.procs, c.gomaxprocs || 1);
    }
    const secs = [...buckets.keys()].sort((a, b) => a - b);
    const raw = { stw: [], assist: [], background: [], idle: [] };
    const s1 = [];
    const s2 = [];
    const s3 = [];
    const s4 = [];
    for (const sec of secs) {
      const b = buckets.get(sec);
      const cap = b.procs * 1e9;
      const stw = b.stw / cap;
      const assist = b.assist / cap;
      const bg = b.background / cap;
      const idle = b.idle / cap;
      raw.stw.push(stw);
      raw.assist.push(assist);
      raw.background.push(bg);
      raw.idle.push(idle);
      s4.push(stw);
      s3.push(stw + assist);
      s2.push(stw + assist + bg);
      s1.push(stw + assist + bg + idle);
    }
    Object.assign(this.raw, raw);
    this.setData([secs.map((s) => (s + 500) / 1e3), s1, s2, s3, s4]);
  }
}

/** Allocation rate between consecutive cycles (bytes allocated / time since the previous cycle). */
export class AllocChart extends LiveChart {
  constructor(el) {
    super(el, 200, (width, height) => ({
      width,
      height,
      cursor: { sync: { key: 'gcpilot-process' } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max * 1.1, 1)] } },
      series: [
        { value: (u, v) => (v === null || v === undefined ? '–' : fmtClock(v * 1000)) },
        lineSeries('alloc rate', COLORS.alloc, { fill: 'rgba(62, 207, 142, 0.12)',
          value: (u, v) => (v === null ? '–' : `${fmtNum(v)} MB/s`) }),
      ],
      axes: timeAxes((v) => `${fmtNum(v)} MB/s`, 78),
    }));
  }

  update(sel) {
    if (sel.cycles.version === this.version && this.u) return;
    this.version = sel.cycles.version;
    const items = sel.cycles.items;
    const x = [];
    const y = [];
    for (let i = 1; i < items.length; i++) {
      const dt = items[i].t - items[i - 1].t;
      const bytes = items[i].c.allocated_bytes;
      if (dt <= 0 || !Number.isFinite(bytes)) continue;
      x.push(items[i].t / 1e3);
      y.push(bytes / 1048576 / (dt / 1000));
    }
    this.setData([x, y]);
  }
}

/** Non-GC stops of the world, one point series per reason. */
export class StopsChart extends LiveChart {
  constructor(el) {
    super(el, 200, (width, height) => ({
      width,
      height,
      cursor: { sync: { key: 'gcpilot-process' } },
      scales: { x: { time: true }, y: { distr: 3 } },
      series: [{ value: (u, v) => (v === null || v === undefined ? '–' : fmtClock(v * 1000)) },
        ...this.reasons.map((r, i) => pointSeries(r, REASON_COLORS[i % REASON_COLORS.length]))],
      axes: timeAxes(fmtMs),
    }));
    this.reasons = [];
  }

  update(sel) {
    if (sel.stops.version === this.version && this.u) return;
    const items = sel.stops.items;
    const reasons = [...new Set(items.map((it) => it.s.reason || 'unknown'))].sort();
    if (reasons.join() !== this.reasons.join()) {
      this.reset();
      this.reasons = reasons;
    }
    this.version = sel.stops.version;
    this.el.classList.toggle('no-data', reasons.length === 0);
    if (reasons.length === 0) return;
    const index = new Map(reasons.map((r, i) => [r, i + 1]));
    const data = [items.map((it) => it.t / 1e3)];
    for (let s = 0; s < reasons.length; s++) data.push(new Array(items.length).fill(null));
    items.forEach((it, i) => {
      data[index.get(it.s.reason || 'unknown')][i] = pos(it.s.duration_ns / 1e6);
    });
    this.setData(data);
  }
}
