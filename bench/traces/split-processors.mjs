// node bench/traces/split-processors.mjs ROOT [ORDER=ABCCBA] [ROUNDS=4] [BURST_S=3] [PORT=19600]
// What `POST /trades` reaches with the processors off `serve`'s main thread (BENCHMARKS.md, eleventh session).
// A: `serve` as the `commands` section runs it (all roles); B: `serve --roles command-api,query-api,projections`
// alone (no processors: the upper bound); C: B plus `serve --roles processors` on the same data directory.
// Each configuration in ORDER gets a fresh data directory and the commands section's load (bench/http.ts):
// a 3 s warm-up at 32 connections, then at 8/16/32 connections ROUNDS rounds of an empty-route burst and a
// command burst (which goes first alternates), every burst started with every follower at the head.
// Per command burst: rate, p50, p99, CPU per thread per command (and autocannon's, the driver's own) (/proc, the burst alone and the burst plus
// the catch-up after it), the processors' gap (events, seconds) when the load stops and how long they take
// to reach the head, and where the main threads spent the burst's wall-clock (a sampler reading
// /proc/PID/task/PID/syscall every 2 ms: running, epoll, fsync, sleep = SQLite's busy handler, futex, other).
// The empty route is command-http-server.mjs's (bench/empty-route-server's route, on a port of the range).
// In B the processors' gap is not theirs (no processors run: /status reports their stored checkpoints); B waits for its projections.
// Prints one JSON line per burst and a summary per configuration. Needs the build (`npm run build`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === '--sample') {
  // The sampler: stdin "start" / "stop"; on stop prints the counts per pid.
  const pids = process.argv.slice(3).map(Number);
  const names = { 232: 'epoll', 281: 'epoll', 441: 'epoll', 74: 'fsync', 75: 'fsync', 35: 'sleep', 230: 'sleep', 202: 'futex', 17: 'io', 18: 'io', 0: 'io', 1: 'io', 72: 'fcntl' };
  let counts = null;
  let timer = null;
  const tick = () => {
    for (const pid of pids) {
      let state;
      try {
        const text = readFileSync(`/proc/${pid}/task/${pid}/syscall`, 'utf8');
        state = text.startsWith('running') ? 'running' : (names[Number(text.split(' ')[0])] ?? `sys${text.split(' ')[0]}`);
      } catch {
        state = 'gone';
      }
      const c = (counts[pid] ??= {});
      c[state] = (c[state] ?? 0) + 1;
    }
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (line) => {
    for (const cmd of line.split('\n')) {
      if (cmd === 'start') { counts = {}; timer = setInterval(tick, 2); process.stdout.write('started\n'); }
      if (cmd === 'stop') { clearInterval(timer); process.stdout.write(`${JSON.stringify(counts)}\n`); }
    }
  });
  process.stdout.write('ready\n');
} else {
  await main();
}

async function main() {
  const [rootArg = '.', order = 'ABCCBA', roundsArg = '4', burstArg = '3', portArg = '19600'] = process.argv.slice(2);
  const root = resolve(rootArg);
  const ROUNDS = +roundsArg;
  const BURST = +burstArg;
  const { ServeProcess, captureTradeRequest } = await import(`${root}/dist/bench/platform.js`);
  const { load } = await import(`${root}/dist/bench/load.js`);
  let port = +portArg;

  const empty = await startChild(process.execPath, [join(here, 'command-http-server.mjs'), root, String(port + 90), 'empty']);
  const emptyUrl = empty.firstLine;
  const summaries = [];
  try {
    for (const [index, mode] of [...order].entries()) {
      const dir = mkdtempSync('/tmp/ksplit-');
      const apiRoles = mode === 'A' ? [] : ['--roles', 'command-api,query-api,projections'];
      const api = await ServeProcess.start(join(dir, 'data'), ['--port', String(port + 2 * index), ...apiRoles]);
      const proc = mode === 'C' ? await ServeProcess.start(join(dir, 'data'), ['--port', String(port + 2 * index + 1), '--roles', 'processors']) : null;
      const sampler = await startChild(process.execPath, [fileURLToPath(import.meta.url), '--sample', String(api.child.pid), ...(proc ? [String(proc.child.pid)] : [])]);
      const processorsGap = async () => {
        const s = await (await fetch(`${(proc ?? api).url}/status`)).json();
        const gaps = s.subscriptions.filter((x) => !x.name.startsWith('projection:'));
        if (gaps.length === 0) return null;
        return { events: Math.max(...gaps.map((g) => g.gapEvents)), seconds: +Math.max(...gaps.map((g) => g.gapSeconds)).toFixed(2), head: s.head };
      };
      // Without the processors in its process, `serve`'s caughtUp counts their stored checkpoints: its projections alone are waited for.
      const projectionsAtHead = async () => {
        for (;;) {
          const s = await (await fetch(`${api.url}/status`)).json();
          if (s.subscriptions.filter((x) => x.name.startsWith('projection:')).every((x) => x.position >= s.head)) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const idle = async () => {
        if (mode === 'A') return api.caughtUp(1);
        if (proc) await proc.caughtUpProcessors();
        await projectionsAtHead();
        if (proc) await proc.caughtUpProcessors();
      };
      const cpu = () => ({ api: api.threadCpu(), ...(proc && { proc: proc.threadCpu() }) });
      const request = captureTradeRequest(`${mode}${index}x`);
      const capture = (connections) => load({ url: api.url, connections, seconds: BURST, requests: [request] });
      const bursts = [];
      try {
        await capture(32, 3);
        await idle();
        for (const connections of [8, 16, 32]) {
          for (let round = 0; round < ROUNDS; round++) {
            const routeFirst = round % 2 === 1;
            const sides = routeFirst ? ['route', 'empty'] : ['empty', 'route'];
            const result = { mode, connections, round };
            for (const side of sides) {
              await idle();
              if (side === 'empty') {
                const e = await load({ url: emptyUrl, connections, seconds: BURST, requests: [{ method: 'GET', path: '/' }] });
                result.empty = { rate: Math.round(e.rate), p50: e.p50, p99: e.p99 };
                continue;
              }
              const la = loadavg()[0];
              const c0 = cpu();
              await sampler.send('start');
              const d0 = process.cpuUsage();
              const r = await load({ url: api.url, connections, seconds: BURST, requests: [request] });
              const stopped = Date.now();
              const d1 = process.cpuUsage(d0);
              const gap = await processorsGap();
              const samples = JSON.parse(await sampler.send('stop'));
              const c1 = cpu();
              if (proc) await proc.caughtUpProcessors(); else if (mode === 'A') await api.caughtUp(1);
              const processorsAtHeadMs = Date.now() - stopped;
              await idle();
              const caughtUpMs = Date.now() - stopped;
              const c2 = cpu();
              const n = r.rate * BURST;
              const per = (a, b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Math.round(((v - (a[k] ?? 0)) * 1e6) / n)]).filter(([, v]) => v >= 1));
              result.route = { rate: Math.round(r.rate), p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors };
              result.load = +la.toFixed(2);
              result.driverUs = Math.round((d1.user + d1.system) / n);
              result.gapAtStop = gap;
              result.processorsAtHeadMs = processorsAtHeadMs;
              result.caughtUpMs = caughtUpMs;
              result.cpuBurst = { api: per(c0.api, c1.api), ...(proc && { proc: per(c0.proc, c1.proc) }) };
              result.cpuWithCatchUp = { api: per(c0.api, c2.api), ...(proc && { proc: per(c0.proc, c2.proc) }) };
              result.wall = Object.fromEntries(Object.entries(samples).map(([pid, c]) => [pid === String(api.child.pid) ? 'api' : 'proc', share(c)]));
            }
            result.ratio = +(result.route.rate / result.empty.rate).toFixed(3);
            result.p99x = +(result.route.p99 / result.empty.p99).toFixed(2);
            bursts.push(result);
            console.log(JSON.stringify(result));
          }
        }
      } finally {
        sampler.kill();
        if (proc) await proc.stop();
        await api.stop();
        rmSync(dir, { recursive: true, force: true });
      }
      summaries.push({ mode, index, bursts });
    }
  } finally {
    empty.kill();
  }
  console.log('SUMMARY');
  for (const mode of [...new Set(order)]) {
    for (const connections of [8, 16, 32]) {
      const b = summaries.filter((s) => s.mode === mode).flatMap((s) => s.bursts).filter((x) => x.connections === connections);
      const f = (xs, d = 0) => { const s = [...xs].sort((p, q) => p - q); const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; return `${m.toFixed(d)} (${s[0].toFixed(d)}–${s.at(-1).toFixed(d)})`; };
      const line = {
        mode, connections, bursts: b.length,
        ratio: f(b.map((x) => x.ratio), 3), p99x: f(b.map((x) => x.p99x), 2),
        rate: f(b.map((x) => x.route.rate)), p50: f(b.map((x) => x.route.p50), 2), p99: f(b.map((x) => x.route.p99), 2),
        emptyRate: f(b.map((x) => x.empty.rate)), emptyP99: f(b.map((x) => x.empty.p99), 2),
        apiMainUs: f(b.map((x) => x.cpuBurst.api['node#0'] ?? 0)), apiMainWithCatchUpUs: f(b.map((x) => x.cpuWithCatchUp.api['node#0'] ?? 0)),
        apiAllWithCatchUpUs: f(b.map((x) => Object.values(x.cpuWithCatchUp.api).reduce((s, v) => s + v, 0))),
        ...(mode === 'C' && { procMainWithCatchUpUs: f(b.map((x) => x.cpuWithCatchUp.proc['node#0'] ?? 0)), procAllWithCatchUpUs: f(b.map((x) => Object.values(x.cpuWithCatchUp.proc).reduce((s, v) => s + v, 0))) }),
        gapEvents: b[0].gapAtStop ? f(b.map((x) => x.gapAtStop.events)) : null,
        gapSeconds: b[0].gapAtStop ? f(b.map((x) => x.gapAtStop.seconds), 2) : null,
        driverUs: f(b.map((x) => x.driverUs ?? 0)),
        processorsAtHeadMs: f(b.map((x) => x.processorsAtHeadMs)), caughtUpMs: f(b.map((x) => x.caughtUpMs)),
        apiSleepPct: f(b.map((x) => x.wall.api.sleep ?? 0), 1), apiFsyncPct: f(b.map((x) => x.wall.api.fsync ?? 0), 1), apiRunningPct: f(b.map((x) => x.wall.api.running ?? 0), 1),
        ...(mode === 'C' && { procSleepPct: f(b.map((x) => x.wall.proc.sleep ?? 0), 1), procRunningPct: f(b.map((x) => x.wall.proc.running ?? 0), 1) }),
      };
      console.log(JSON.stringify(line));
    }
  }
}

/** The share of samples in each state, in per cent. */
function share(counts) {
  const total = Object.values(counts).reduce((s, v) => s + v, 0);
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, +((100 * v) / total).toFixed(1)]));
}

/** A child whose first stdout line is awaited; `send` writes a line and resolves with the next line it prints. */
async function startChild(command, args) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let buffer = '';
  const waiting = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let at;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      waiting.shift()?.(line);
    }
  });
  const firstLine = await new Promise((r) => waiting.push(r));
  return {
    firstLine,
    send: (line) => new Promise((r) => { waiting.push(r); child.stdin.write(`${line}\n`); }),
    kill: () => child.kill('SIGTERM'),
  };
}
