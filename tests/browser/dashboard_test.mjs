#!/usr/bin/env node
// Browser test of the gcpilot dashboard against the real agent: starts
// `gcpilot serve` (eBPF, needs root), opens the page in headless Chromium
// (playwright-core), then starts four Go workloads from the build's testprogs
// (so everything after the first load reaches the page through the event
// stream) and checks that the workloads' rows appear with a health, that the
// pause chart of a selected process receives points from the event stream,
// that the SLO line is drawn at the configured value, that non-GC stops are
// listed, and the verdict panels: storm's allocation_storm finding (active,
// with title, summary, evidence and fix; moved to "cleared" with its reason
// when storm is killed), breakersvc's breaker OPEN (red, with the transition's
// reason, its service OPEN too, steady's CLOSED in another colour), and the
// tuner's dry-run recommendation for storm (policy, GOGC, reasoning, effect),
// each cross-checked with the JSON API; `finding`, `breaker` and `tuner`
// stream events must have arrived; and the page logs no errors. Saves
// ARTIFACTS/dashboard.png (storm selected), dashboard-verdicts.png (the
// panels) and dashboard-stops.png (stwreasons selected). Everything it
// started is killed at the end, also on failure or a signal.
//
//   node dashboard_test.mjs --gcpilot BIN --testprogs DIR --web DIR --artifacts DIR
//
// Exit codes: 0 pass, 1 fail, 77 skipped (no root / BPF / Chromium, and CI is
// not "true"; with CI=true a missing prerequisite is a failure).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';

const SKIP = 77;
const SLO = { flag: '2ms', ms: 2 };  // not the 5 ms default: proves the line follows the config
const CHROMIUM = process.env.GCPILOT_CHROMIUM || '/usr/bin/chromium';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['gcpilot', 'testprogs', 'web', 'artifacts']) {
  if (!args[k]) {
    console.error(`usage: dashboard_test.mjs --gcpilot BIN --testprogs DIR --web DIR --artifacts DIR (missing --${k})`);
    process.exit(2);
  }
}
const inCi = process.env.CI === 'true';
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...a);

class Skip extends Error {}

/** A missing prerequisite: skip, or fail in CI. */
function prerequisite(ok, what) {
  if (ok) return;
  if (inCi) throw new Error(`${what} (CI=true: failing instead of skipping)`);
  throw new Skip(what);
}

const children = [];
let browser = null;

// setpriv --pdeathsig (util-linux) execs the command in place (same pid) with
// SIGKILL as its parent-death signal: nothing outlives this script, even when
// ctest kills it on timeout.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

function start(name, cmd, argv, logFile, env = {}) {
  const out = fs.openSync(logFile, 'w');
  if (SETPRIV) {
    argv = ['--pdeathsig', 'KILL', cmd, ...argv];
    cmd = SETPRIV;
  }
  const child = spawn(cmd, argv, { stdio: ['ignore', out, out], detached: false, env: { ...process.env, ...env } });
  fs.closeSync(out);
  child.name = name;
  child.exited = null;
  child.on('exit', (code, signal) => { child.exited = { code, signal }; });
  children.push(child);
  log(`started ${name}: pid ${child.pid}: ${cmd} ${argv.join(' ')}`);
  return child;
}

async function cleanup() {
  if (browser) {
    await browser.close().catch(() => {});
    browser = null;
  }
  // Workloads first, then the agent (SIGTERM, then SIGKILL after 5 s).
  for (const c of children.slice().reverse()) {
    if (c.exited || c.exitCode !== null) continue;
    try { c.kill(c.name === 'gcpilot serve' ? 'SIGTERM' : 'SIGKILL'); } catch (_) { /* gone */ }
  }
  const deadline = Date.now() + 5000;
  while (children.some((c) => !c.exited && c.exitCode === null) && Date.now() < deadline) await sleep(100);
  for (const c of children) {
    if (!c.exited && c.exitCode === null) {
      try { c.kill('SIGKILL'); } catch (_) { /* gone */ }
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`got ${sig}: cleaning up`);
    cleanup().finally(() => process.exit(1));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value; throws `what` after timeoutMs. */
async function waitFor(what, timeoutMs, fn, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The newest go1.XX directory of the testprogs that has every workload. */
function workloadDir(names) {
  const dirs = fs.existsSync(args.testprogs) ? fs.readdirSync(args.testprogs).filter((d) => /^go1\.\d+$/.test(d)) : [];
  dirs.sort((a, b) => Number(b.split('.')[1]) - Number(a.split('.')[1]));
  for (const d of dirs) {
    const dir = path.join(args.testprogs, d);
    if (names.every((n) => fs.existsSync(path.join(dir, n)))) return dir;
  }
  return null;
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (_) {
    return '(no log)';
  }
}

async function main() {
  fs.mkdirSync(args.artifacts, { recursive: true });
  const agentLog = path.join(args.artifacts, 'dashboard-serve.log');

  // ---- prerequisites ----
  prerequisite(typeof process.getuid === 'function' && process.getuid() === 0,
    'the agent loads eBPF programs: run as root');
  prerequisite(fs.existsSync('/sys/kernel/btf/vmlinux'), 'no BTF (/sys/kernel/btf/vmlinux): no eBPF source');
  prerequisite(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/setup.sh installs it)`);
  let chromium;
  try {
    ({ chromium } = createRequire(path.join(args.web, 'package.json'))('playwright-core'));
  } catch (e) {
    prerequisite(false, `playwright-core is not installed in ${args.web}/node_modules (run scripts/setup.sh): ${e.message}`);
  }
  const names = ['storm', 'steady', 'stwreasons', 'breakersvc'];
  const dir = workloadDir(names);
  if (!dir) throw new Error(`no Go workloads (${names.join(', ')}) under ${args.testprogs}: build the testprogs target`);
  if (!fs.existsSync(args.gcpilot)) throw new Error(`no gcpilot binary at ${args.gcpilot}`);

  // ---- the agent ----
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const agent = start('gcpilot serve', args.gcpilot, ['serve', '--listen', `127.0.0.1:${port}`, '--slo-pause', SLO.flag], agentLog);
  await waitFor('/readyz', 60000, async () => {
    if (agent.exited) throw new Error(`gcpilot serve exited (${JSON.stringify(agent.exited)}):\n${tail(agentLog)}`);
    const r = await fetch(`${base}/readyz`).catch(() => null);
    return r && r.status === 200;
  }, 250);
  log(`agent ready on ${base}`);

  // ---- the page ----
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
  const problems = [];
  const ignored = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The agent drops stream clients that fall behind; Chromium then logs the
    // broken stream as a network error. The page reconnects: not a page error.
    const url = m.location()?.url || '';
    if (url.includes('/api/v1/stream')) ignored.push(m.text());
    else problems.push(`console error: ${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (!r.url().includes('/api/v1/stream')) problems.push(`request failed: ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  const hook = (expr) => page.evaluate(expr);

  try {
    await page.goto(`${base}/`, { waitUntil: 'load', timeout: 60000 });
    await waitFor('the dashboard hook', 30000, () => hook('!!window.gcpilotDashboard'));
    await waitFor('the event stream to open', 60000, () => hook('window.gcpilotDashboard.events().sse === "open"'));

    // ---- the workloads, started after the page loaded ----
    const stwFile = path.join(args.artifacts, 'dashboard-breakersvc.stw');
    fs.writeFileSync(stwFile, '');
    const work = {
      storm: start('storm', path.join(dir, 'storm'), ['-rate-mbps', '96'], path.join(args.artifacts, 'dashboard-storm.log')),
      steady: start('steady', path.join(dir, 'steady'), ['-rps', '500'], path.join(args.artifacts, 'dashboard-steady.log')),
      stwreasons: start('stwreasons', path.join(dir, 'stwreasons'), [], path.join(args.artifacts, 'dashboard-stwreasons.log')),
      // Stops the world with runtime.Stack of 3000 goroutines every 100 ms
      // while its -stw-file exists (from the start here): a STW P99 far above
      // the 2 ms threshold keeps its breaker OPEN. Its actuator polls this agent.
      breakersvc: start('breakersvc', path.join(dir, 'breakersvc'), ['-goroutines', '3000', '-stw-file', stwFile],
        path.join(args.artifacts, 'dashboard-breakersvc.log'), { GCPILOT_AGENT: base }),
    };
    const pids = Object.values(work).map((c) => c.pid);

    // 1. A row per workload, with a health.
    const rows = await waitFor(`rows for the workloads ${pids.join(', ')}`, 90000, async () => {
      for (const c of Object.values(work)) {
        if (c.exited) throw new Error(`workload ${c.name} exited: ${JSON.stringify(c.exited)}`);
      }
      const got = await page.$$eval('#proc-table tr[data-pid]', (trs) => trs.map((tr) => ({ pid: Number(tr.dataset.pid), health: tr.dataset.health })));
      const mine = got.filter((r) => pids.includes(r.pid));
      return mine.length === pids.length ? mine : null;
    });
    for (const r of rows) {
      if (!['ok', 'warn', 'bad', 'idle'].includes(r.health)) throw new Error(`row of pid ${r.pid}: health '${r.health}', want ok/warn/bad/idle`);
    }
    log('rows:', JSON.stringify(rows));
    const hookProcs = await hook('window.gcpilotDashboard.processes()');
    for (const pid of pids) {
      if (!hookProcs.some((p) => p.pid === pid)) throw new Error(`processes() lacks pid ${pid}`);
    }

    // 2. Select the storm workload: its pause chart fills from the stream.
    await page.click(`#proc-table tr[data-pid="${work.storm.pid}"]`);
    await waitFor('the storm process to be selected', 30000, async () => (await hook('window.gcpilotDashboard.selectedPid()')) === work.storm.pid);
    const first = await waitFor('points in the pause chart', 60000, () => hook('window.gcpilotDashboard.pointsInPauseChart()'));
    const cyclesBefore = (await hook('window.gcpilotDashboard.events()')).cycle;
    log(`pause chart: ${first} points; ${cyclesBefore} cycle events so far`);
    const later = await waitFor('the pause chart to grow from the stream', 60000, async () => {
      const n = await hook('window.gcpilotDashboard.pointsInPauseChart()');
      return n > first ? n : null;
    });
    const ev = await hook('window.gcpilotDashboard.events()');
    log(`pause chart grew to ${later} points; events: ${JSON.stringify(ev)}`);
    if (ev.cycle <= cyclesBefore) throw new Error(`no cycle event arrived while the chart grew (${JSON.stringify(ev)})`);

    // 3. The SLO line, at the agent's configured value.
    const status = await (await fetch(`${base}/api/v1/status`)).json();
    if (status.slo_pause_ms !== SLO.ms) throw new Error(`status.slo_pause_ms = ${status.slo_pause_ms}, want ${SLO.ms} (--slo-pause ${SLO.flag})`);
    const slo = await waitFor('the SLO line', 30000, async () => {
      const s = await hook('window.gcpilotDashboard.sloLineDrawn()');
      return s.drawn ? s : null;
    });
    if (Math.abs(slo.valueMs - status.slo_pause_ms) > 1e-9) throw new Error(`SLO line at ${slo.valueMs} ms, want ${status.slo_pause_ms} ms`);
    log(`SLO line drawn at ${slo.valueMs} ms (y = ${slo.yPx?.toFixed(1)} px)`);

    // 4. The other charts got data too; give the stream a moment, then the picture.
    await sleep(3000);
    await page.screenshot({ path: path.join(args.artifacts, 'dashboard.png'), fullPage: true });
    log(`screenshot: ${path.join(args.artifacts, 'dashboard.png')}`);

    // 5. The verdict panels.
    await checkVerdicts(page, hook, base, work);
    await page.screenshot({ path: path.join(args.artifacts, 'dashboard-verdicts.png'), fullPage: true });
    log(`screenshot: ${path.join(args.artifacts, 'dashboard-verdicts.png')}`);

    // 6. The non-GC stops of stwreasons (ReadMemStats, GOMAXPROCS, profiles) in their chart and list.
    await page.click(`#proc-table tr[data-pid="${work.stwreasons.pid}"]`);
    const stops = await waitFor('non-GC stops of stwreasons in the stops list', 60000, async () => {
      if ((await hook('window.gcpilotDashboard.selectedPid()')) !== work.stwreasons.pid) return null;
      const n = await page.$$eval('#stops-recent tbody tr', (trs) => trs.length);
      const drawn = await page.$$eval('#chart-stops canvas', (cs) => cs.length);
      return n > 0 && drawn > 0 ? n : null;
    });
    log(`stops list of stwreasons: ${stops} rows`);
    await page.screenshot({ path: path.join(args.artifacts, 'dashboard-stops.png'), fullPage: true });

    // 7. storm exits: its finding moves to "recently cleared", live.
    const stormFinding = await hook(`window.gcpilotDashboard.findings().find((f) => f.pid === ${work.storm.pid} && f.detector === 'allocation_storm' && f.active)`);
    if (!stormFinding) throw new Error('the allocation_storm finding of storm is no longer active before storm was stopped');
    work.storm.kill('SIGKILL');
    const clearedRow = await waitFor('the storm finding to show as cleared', 60000, () => page.$eval(
      `#findings-table tr[data-id="${stormFinding.id}"]`,
      (tr) => (tr.dataset.active === '0' ? { when: tr.querySelector('td.when').textContent } : null)).catch(() => null));
    if (!/cleared/.test(clearedRow.when) || !/exited/.test(clearedRow.when)) {
      throw new Error(`cleared finding's "when" cell: '${clearedRow.when}', want the clear time and "process exited"`);
    }
    log(`storm killed: finding ${stormFinding.id} cleared: ${clearedRow.when}`);
    // "hide exited" also hides the exited storm's breaker and tuner rows.
    await page.check('#hide-exited');
    await waitFor('storm\'s breaker row hidden by "hide exited"', 30000, async () => {
      const row = await page.$(`#breakers-table tr[data-pid="${work.storm.pid}"][data-exited="1"]`);
      return row !== null && !(await row.isVisible());
    });
    await page.uncheck('#hide-exited');

    // 8. No errors on the page.
    if (ignored.length) log(`ignored ${ignored.length} stream network message(s): ${ignored.slice(0, 3).join(' | ')}`);
    if (problems.length) throw new Error(`the page reported problems:\n  ${problems.join('\n  ')}`);
  } catch (e) {
    await page.screenshot({ path: path.join(args.artifacts, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
    if (problems.length) log(`page problems:\n  ${problems.join('\n  ')}`);
    log(`agent log (tail):\n${tail(agentLog)}`);
    throw e;
  }
}

/** The texts of the cells of one row (a CSS selector), or null without the row. */
async function rowCells(page, selector) {
  return page.$eval(selector, (tr) => [...tr.cells].map((td) => td.textContent.trim())).catch(() => null);
}

/** The panels of findings, breakers and tuner against the agent's JSON API. */
async function checkVerdicts(page, hook, base, work) {
  const api = async (p) => (await fetch(`${base}/api/v1/${p}`)).json();

  // Findings: storm's allocation storm (96 MB/s > 50 MB/s), active.
  const sel = `#findings-table tr[data-pid="${work.storm.pid}"][data-detector="allocation_storm"][data-active="1"]`;
  const cells = await waitFor('an active allocation_storm finding of storm in the findings panel', 90000, () => rowCells(page, sel));
  const f = await page.$eval(sel, (tr) => ({
    id: Number(tr.dataset.id),
    severity: tr.dataset.severity,
    title: tr.querySelector('.title')?.textContent ?? '',
    summary: tr.querySelector('.summary')?.textContent ?? '',
    evidence: tr.querySelector('.evidence')?.textContent ?? '',
    fix: tr.querySelector('details p')?.textContent ?? '',
    sevColor: getComputedStyle(tr.querySelector('.badge[class*="sev-"]')).backgroundColor,
  }));
  log(`finding row: ${JSON.stringify(cells)}`);
  if (!['info', 'warning', 'critical'].includes(f.severity)) throw new Error(`finding severity '${f.severity}'`);
  if (!f.title || !/MB\/s/.test(f.summary) || !/cycles/.test(f.evidence) || f.fix.length < 20) {
    throw new Error(`finding row lacks title, summary, evidence or fix: ${JSON.stringify(f)}`);
  }
  if (!/since/.test(cells[5])) throw new Error(`active finding's "when" cell '${cells[5]}' does not say since when`);
  const findings = await api(`findings?pid=${work.storm.pid}`);
  const apiF = (findings.active || []).find((x) => x.id === f.id);
  if (!apiF || apiF.detector !== 'allocation_storm' || apiF.title !== f.title || apiF.severity !== f.severity) {
    throw new Error(`finding ${f.id} of the page is not the API's: ${JSON.stringify(apiF)}`);
  }

  // Breakers: breakersvc OPEN (stops of several ms over the 2 ms threshold), in red; steady CLOSED in green.
  const openSel = `#breakers-table tr[data-pid="${work.breakersvc.pid}"][data-state="open"]`;
  const bcells = await waitFor('breakersvc\'s breaker OPEN in the breakers panel', 90000, () => rowCells(page, openSel));
  log(`breaker row: ${JSON.stringify(bcells)}`);
  if (bcells[1] !== 'OPEN' || !/threshold/.test(bcells[3]) || !/→ OPEN/.test(bcells[3])) {
    throw new Error(`open breaker row: ${JSON.stringify(bcells)}, want OPEN, the transition to OPEN and its reason`);
  }
  const closedSel = `#breakers-table tr[data-pid="${work.steady.pid}"][data-state="closed"]`;
  await waitFor('steady\'s breaker CLOSED in the breakers panel', 30000, () => rowCells(page, closedSel));
  const colors = await page.evaluate(([o, c]) => [o, c].map((s) => getComputedStyle(document.querySelector(`${s} .badge`)).backgroundColor), [openSel, closedSel]);
  if (colors[0] === colors[1]) throw new Error(`OPEN and CLOSED badges have the same colour ${colors[0]}`);
  await waitFor('the breakersvc service OPEN', 30000, () => page.$('#breaker-services [data-binary="breakersvc"][data-state="open"]'));
  const breakers = await api('breakers');
  const apiB = breakers.processes.find((x) => x.pid === work.breakersvc.pid);
  if (!apiB || apiB.breaker.transitions < 1 || !apiB.history.some((t) => t.to === 'open')) {
    throw new Error(`the API has no transition to open for breakersvc: ${JSON.stringify(apiB)}`);
  }
  log(`breaker colours: open ${colors[0]}, closed ${colors[1]}; API: ${apiB.breaker.state}, ${apiB.breaker.transitions} transitions`);

  // Tuner: a dry-run recommendation for storm (the default policy).
  const tSel = `#tuner-table tr[data-pid="${work.storm.pid}"][data-mode="dry-run"]`;
  const tcells = await waitFor('a dry-run recommendation for storm in the tuner panel', 60000, () => rowCells(page, tSel));
  log(`tuner row: ${JSON.stringify(tcells)}`);
  const recs = await api('recommendations');
  const apiT = recs.processes.find((x) => x.pid === work.storm.pid)?.tuner;
  if (!apiT || !apiT.recommendation || apiT.apply !== false) throw new Error(`API recommendation for storm: ${JSON.stringify(apiT)}`);
  const hookT = (await hook('window.gcpilotDashboard.tuner()')).find((x) => x.pid === work.storm.pid);
  if (tcells[1] !== apiT.recommendation.policy || hookT.policy !== apiT.recommendation.policy || hookT.apply) {
    throw new Error(`tuner row policy '${tcells[1]}' / hook ${JSON.stringify(hookT)}, API ${apiT.recommendation.policy}, dry run`);
  }
  if (!/→/.test(tcells[2]) || !/dry run/.test(tcells[4]) || !/expected:/.test(tcells[5]) || tcells[5].length < 40) {
    throw new Error(`tuner row lacks GOGC, mode, reasoning or effect: ${JSON.stringify(tcells)}`);
  }
  if (!Number.isInteger(hookT.gogc)) throw new Error(`tuner hook: GOGC ${hookT.gogc}`);

  // All three came (also) through the event stream.
  const ev = await hook('window.gcpilotDashboard.events()');
  if (!(ev.finding > 0 && ev.breaker > 0 && ev.tuner > 0)) throw new Error(`stream events: ${JSON.stringify(ev)}, want finding, breaker and tuner events`);
  log(`verdict events: finding ${ev.finding}, breaker ${ev.breaker}, tuner ${ev.tuner}`);
}

let code = 0;
try {
  await main();
  log('PASS');
} catch (e) {
  if (e instanceof Skip) {
    log(`SKIP: ${e.message}`);
    code = SKIP;
  } else {
    log(`FAIL: ${e.stack || e.message}`);
    code = 1;
  }
} finally {
  await cleanup();
}
process.exit(code);
