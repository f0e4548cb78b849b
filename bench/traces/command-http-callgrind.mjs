// node command-http-callgrind.mjs ROOT PORT MODE WARM COUNT OUT: command-http-server.mjs under callgrind, threads apart
// (OUT.1-01 is the main thread's), COUNT requests at 16 connections measured after WARM. PERFMAP=1 writes
// /tmp/perf-PID.map, for callgrind-js.mjs to name the JIT's functions.
import { spawn, execSync } from 'node:child_process';
import { createRequire } from 'node:module';
const [root, port, mode, warm, count, out] = process.argv.slice(2);
const { captureTradeRequest } = await import(`${root}/dist/bench/platform.js`);
const autocannon = createRequire(`${root}/package.json`)('autocannon');
const child = spawn('valgrind', ['--tool=callgrind', '--separate-threads=yes', '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, ...(process.env.PERFMAP ? ['--perf-basic-prof'] : []), '--predictable-gc-schedule', '--hash-seed=1', new URL('./command-http-server.mjs', import.meta.url).pathname, root, port, mode], { stdio: ['ignore', 'pipe', 'ignore'] });
const url = await new Promise((r) => child.stdout.once('data', (d) => r(d.toString().trim())));
const request = mode === 'empty' ? { method: 'GET', path: '/' } : captureTradeRequest('B');
const run = (amount) => new Promise((res, rej) => autocannon({ url, connections: 16, amount, requests: [request] }, (e, r) => (e ? rej(e) : res(r))));
await run(+warm);
execSync(`callgrind_control -i on ${child.pid}`, { stdio: 'ignore' });
const r = await run(+count);
execSync(`callgrind_control -d ${child.pid}`, { stdio: 'ignore' });
console.log(JSON.stringify({ mode, ok: r['2xx'], non2xx: r.non2xx }));
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
