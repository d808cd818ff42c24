// Formatting helpers for the gcpilot dashboard: durations, byte sizes, rates,
// percentages and uptimes as short human-readable strings.

/** Nanoseconds as "850 ns", "42 µs", "1.25 ms" or "2.5 s"; "–" when unknown. */
export function fmtNs(ns) {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '–';
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)} µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)} ms`;
  return `${trim(ns / 1e9)} s`;
}

/** Milliseconds (a chart value) as a duration string. */
export function fmtMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  return fmtNs(ms * 1e6);
}

/** Bytes as "512 B", "3.4 MB" (MB = 2^20 bytes). */
export function fmtBytes(b) {
  if (b === null || b === undefined || !Number.isFinite(b)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(b) : trim(b)} ${units[i]}`;
}

/** Bytes per second as MB/s (MB = 2^20 bytes). */
export function fmtMBps(bps) {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '–';
  return `${trim(bps / 1048576)} MB/s`;
}

/** A share in [0, 1] as a percentage. */
export function fmtPct(share) {
  if (share === null || share === undefined || !Number.isFinite(share)) return '–';
  return `${trim(share * 100)} %`;
}

/** A plain number with at most three significant digits. */
export function fmtNum(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return trim(x);
}

/** Seconds as "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function fmtUptime(s) {
  if (!Number.isFinite(s)) return '–';
  s = Math.max(0, Math.floor(s));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** GOGC as the runtime reports it (-1: off). */
export function fmtGogc(gogc) {
  if (gogc === null || gogc === undefined) return '–';
  return gogc < 0 ? 'off' : String(gogc);
}

/** GOMEMLIMIT in bytes (math.MaxInt64 or more: none). */
export function fmtMemLimit(bytes) {
  if (bytes === null || bytes === undefined) return '–';
  return bytes >= 9e18 ? 'none' : fmtBytes(bytes);
}

/** A wall-clock time (Unix ms) as HH:MM:SS.mmm, local time. */
export function fmtClock(ms) {
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function trim(x) {
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
