// node /tmp/drive.mjs ROOT [connections] [seconds] [trace]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
const [root, conns = '16', secs = '10', traced = ''] = process.argv.slice(2);
const { ServeProcess, captureTradeRequest } = await import(`${root}/dist/bench/platform.js`);
const { load } = await import(`${root}/dist/bench/load.js`);
const dir = mkdtempSync('/tmp/kdrive-');
const serve = await ServeProcess.start(`${dir}/data`);
try {
  const request = captureTradeRequest('B');
  await load({ url: serve.url, connections: 32, seconds: 3, requests: [request] });
  await serve.caughtUp(1);
  if (traced) await fetch(`${serve.url}/__trace?reset=1`);
  const cpu0 = serve.threadCpu();
  const la0 = loadavg()[0];
  const r = await load({ url: serve.url, connections: +conns, seconds: +secs, requests: [request] });
  const cpu1 = serve.threadCpu();
  const n = r.rate * +secs;
  const perThread = Object.fromEntries(Object.keys(cpu1).map((k) => [k, Math.round(((cpu1[k] - (cpu0[k] ?? 0)) * 1e6) / n)]).filter(([, v]) => v > 2));
  const out = { rate: Math.round(r.rate), p50: r.p50, p99: r.p99, non2xx: r.non2xx, load: [la0.toFixed(1), loadavg()[0].toFixed(1)], cpuUsPerCmd: perThread };
  if (traced) out.trace = await (await fetch(`${serve.url}/__trace`)).json();
  console.log(JSON.stringify(out, null, traced ? 1 : 0));
} finally {
  await serve.stop();
  rmSync(dir, { recursive: true, force: true });
}
