#!/usr/bin/env node
// Development-only stand-in for `gcpilot serve`: serves web/src (and uPlot
// from web/node_modules) and a synthetic /api/v1 + /api/v1/stream following
// docs/serve.md, so the dashboard can be worked on without root or eBPF.
// The real browser test (../dashboard_test.mjs) never uses it.
//
//   node tests/browser/dev/mock_server.mjs [--port 9465] [--procs 50] [--gcs 100]
//        [--drop-every-s 0]   (disconnect stream clients every N s, to test reconnects)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const web = path.resolve(here, '../../../web');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const PORT = Number(args.port ?? 9465);
const NPROCS = Number(args.procs ?? 5);
const GCS = Number(args.gcs ?? 20);  // GCs per second over all processes
const DROP_EVERY_S = Number(args['drop-every-s'] ?? 0);
const SLO_MS = Number(args.slo ?? 5);

const startMs = Date.now();
const monoBase = 1e12;  // fake CLOCK_MONOTONIC ns at startMs
const toNs = (ms) => monoBase + (ms - startMs) * 1e6;
const REASONS = ['read_mem_stats', 'gomaxprocs', 'goroutine_profile'];
const comms = ['api', 'storm', 'worker', 'indexer', 'cache', 'gateway'];

const procs = [];
for (let i = 0; i < NPROCS; i++) {
  procs.push({
    pid: 1000 + i, generation: 0, comm: comms[i % comms.length], exe: `/srv/${comms[i % comms.length]}`,
    binary: comms[i % comms.length], go_version: 'go1.23.5', container: '', source: 'ebpf',
    seen_ms: startMs, exited: false, exit: null, health: 'ok',
    weight: i === 1 ? 5 : 1, cycles: [], stops: [], seq: 0, stopSeq: 0, gc: 0,
    totals: { cycles: 0, forced_cycles: 0, stops: 0, alloc_bytes: 0, drops: 0, pause_ns: 0, gc_cpu_ns: 0 },
    gauges: { gogc: 100, memory_limit_bytes: 9223372036854775807, goroutines: 40 + i, gomaxprocs: 2,
      heap_live_bytes: 4 << 20, heap_goal_bytes: 8 << 20 },
  });
}
const wsum = procs.reduce((s, p) => s + p.weight, 0);
let stats = { cycles: 0, stops: 0, drops: 0, processes_traced: NPROCS, refused: 0, bad_records: 0, unattributed: 0, missed: 0 };
const clients = new Set();
let messages = 0;
let eventId = 0;

function status() {
  return { version: '0.1.0', uptime_s: (Date.now() - startMs) / 1000, source: 'ebpf', listen: `127.0.0.1:${PORT}`,
    slo_pause_ms: SLO_MS, processes: procs.length, processes_live: procs.filter((p) => !p.exited).length,
    stats, sse: { clients: clients.size, dropped_clients: 0, messages },
    history: { retention_s: 3600, max_cycles_per_process: 20000, max_processes: 512, store: null } };
}

function makeCycle(p, nowMs) {
  const heavy = p.weight > 1;
  const sweep = 20000 + Math.random() * 60000 * (heavy ? 3 : 1);
  const markTerm = 30000 + Math.random() * 80000 + (Math.random() < 0.02 ? 7e6 : 0);
  const mark = 1e6 + Math.random() * 3e6;
  const live = (4 << 20) * (1 + 0.2 * Math.sin(nowMs / 20000 + p.pid));
  const c = {
    gc: ++p.gc, start_ns: toNs(nowMs), time_ms: nowMs, seq: ++p.seq,
    sweep_term_ns: Math.round(sweep), mark_ns: Math.round(mark), mark_term_ns: Math.round(markTerm),
    pause_ns: Math.round(sweep + markTerm),
    cpu_sweep_term_ns: Math.round(sweep * 2), cpu_assist_ns: Math.round(mark * 0.1),
    cpu_background_ns: Math.round(mark * 0.5), cpu_idle_ns: Math.round(mark * 0.3), cpu_mark_term_ns: Math.round(markTerm * 2),
    heap_start_bytes: Math.round(live * 2), heap_end_bytes: Math.round(live * 2.1), heap_live_bytes: Math.round(live),
    heap_goal_bytes: Math.round(live * 2), allocated_bytes: Math.round(live * 1.1), byte_resolution: 1,
    gomaxprocs: 2, trigger: 'heap', cpu_percent_since_start: 3, cycle_source: 'ebpf',
  };
  p.cycles.push(c);
  if (p.cycles.length > 20000) p.cycles.shift();
  p.totals.cycles++;
  p.gauges.heap_live_bytes = c.heap_live_bytes;
  p.gauges.heap_goal_bytes = c.heap_goal_bytes;
  stats.cycles++;
  return c;
}

function windowOf(p, nowMs) {
  const recent = p.cycles.filter((c) => c.time_ms >= nowMs - 10000);
  const pauses = recent.flatMap((c) => [c.sweep_term_ns, c.mark_term_ns]).sort((a, b) => a - b);
  const q = (f) => (pauses.length ? pauses[Math.min(pauses.length - 1, Math.ceil(pauses.length * f) - 1)] : 0);
  const stops = p.stops.filter((s) => s.time_ms >= nowMs - 10000);
  const byReason = {};
  for (const s of stops) byReason[s.reason] = (byReason[s.reason] || 0) + 1;
  return { view: '10s', start_ms: nowMs - 10000, end_ms: nowMs, covered_s: 10, gc_cycles: recent.length,
    forced_cycles: 0, gcs_per_sec: recent.length / 10, alloc_bytes_per_sec: recent.reduce((s, c) => s + c.allocated_bytes, 0) / 10,
    gc_cpu_share: 0.03 * p.weight, assist_share_of_gc_cpu: 0.1, mark_wall_share: 0.2,
    gc_cpu_ns: { sweep_term: 1, assist: 2, background: 3, idle: 4, mark_term: 5 },
    pause_ns: { count: pauses.length, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: q(1), sum: pauses.reduce((a, b) => a + b, 0) },
    other_stops: { count: stops.length, max_ns: Math.max(0, ...stops.map((s) => s.duration_ns)), by_reason: byReason },
    heap_live_bytes: p.gauges.heap_live_bytes, heap_goal_bytes: p.gauges.heap_goal_bytes, gomaxprocs: 2 };
}

function health(p, w) {
  if (p.exited) return 'exited';
  if (w.pause_ns.count === 0) return 'idle';
  if (w.pause_ns.p99 >= SLO_MS * 1e6) return 'bad';
  if (w.pause_ns.max >= SLO_MS * 1e6) return 'warn';
  return 'ok';
}

function procJson(p, withWindow) {
  const { weight, cycles, stops, seq, stopSeq, gc, ...pub } = p;
  const w = windowOf(p, Date.now());
  pub.health = health(p, w);
  if (withWindow) pub.window = w;
  return pub;
}

function broadcast(type, data, pid) {
  const msg = `id: ${++eventId}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  for (const c of clients) {
    if (c.pids && pid !== undefined && !c.pids.has(pid)) continue;
    c.res.write(msg);
    messages++;
  }
}

// Live generation: GCS cycles/s spread over processes by weight; some stops.
setInterval(() => {
  const now = Date.now();
  for (const p of procs) {
    if (p.exited) continue;
    const expected = (GCS * p.weight / wsum) * 0.05;
    let n = Math.floor(expected) + (Math.random() < expected % 1 ? 1 : 0);
    while (n-- > 0) broadcast('cycle', { pid: p.pid, generation: 0, cycle: makeCycle(p, now) }, p.pid);
    if (p.pid % 3 === 0 && Math.random() < 0.1) {
      const s = { seq: ++p.stopSeq, start_ns: toNs(now), time_ms: now, duration_ns: Math.round(50000 + Math.random() * 400000),
        kind: 'other', reason: REASONS[Math.floor(Math.random() * REASONS.length)] };
      p.stops.push(s);
      stats.stops++;
      broadcast('stop', { pid: p.pid, generation: 0, stop: s }, p.pid);
    }
  }
}, 50);
setInterval(() => {
  for (const p of procs) {
    if (p.exited) continue;
    const w = windowOf(p, Date.now());
    broadcast('window', { pid: p.pid, generation: 0, health: health(p, w), gauges: p.gauges, window: w }, p.pid);
  }
}, 1000);
setInterval(() => broadcast('status', status()), 5000);
if (DROP_EVERY_S > 0) {
  setInterval(() => {
    for (const c of clients) c.res.destroy();
  }, DROP_EVERY_S * 1000);
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
function sendFile(res, file) {
  fs.readFile(file, (err, buf) => {
    if (err) return json(res, 404, { error: 'not found' });
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(buf);
  });
}
function json(res, code, obj) {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function paged(list, q, key, pid) {
  const after = Number(q.get('after') ?? -1);
  const since = Number(q.get('since_ms') ?? 0);
  const limit = Math.min(Number(q.get('limit') ?? 500), 5000);
  const sel = list.filter((r) => r.seq > after && r.time_ms >= since);
  const page = sel.slice(0, limit);
  return { pid, generation: 0, [key]: page, next_after: page.length ? page[page.length - 1].seq : after, more: sel.length > limit };
}

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/' || p === '/index.html') return sendFile(res, path.join(web, 'src/index.html'));
  if (p === '/vendor/uPlot.iife.min.js' || p === '/vendor/uPlot.min.css') {
    return sendFile(res, path.join(web, 'node_modules/uplot/dist', path.basename(p)));
  }
  if (/^\/[a-z]+\.(js|css)$/.test(p)) return sendFile(res, path.join(web, 'src', p));
  if (p === '/healthz' || p === '/readyz') { res.writeHead(200); return res.end('ok\n'); }
  if (p === '/api/v1/status') return json(res, 200, status());
  if (p === '/api/v1/processes') return json(res, 200, { now_ms: Date.now(), processes: procs.map((x) => procJson(x, true)) });
  let m = /^\/api\/v1\/processes\/(\d+)(\/(cycles|stops))?$/.exec(p);
  if (m) {
    const proc = procs.find((x) => x.pid === Number(m[1]));
    if (!proc) return json(res, 404, { error: 'no such process' });
    if (!m[3]) return json(res, 200, procJson(proc, true));
    return json(res, 200, paged(m[3] === 'cycles' ? proc.cycles : proc.stops, url.searchParams, m[3], proc.pid));
  }
  if (p === '/api/v1/stream') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const pids = url.searchParams.getAll('pid').map(Number);
    const c = { res, pids: pids.length ? new Set(pids) : null };
    res.write(`id: ${++eventId}\nevent: hello\ndata: ${JSON.stringify(status())}\n\n`);
    clients.add(c);
    req.on('close', () => clients.delete(c));
    return undefined;
  }
  return json(res, 404, { error: 'not found' });
}).listen(PORT, '127.0.0.1', () => console.log(`mock gcpilot serve on http://127.0.0.1:${PORT}/ (${NPROCS} processes, ${GCS} GC/s)`));
