// What seeing it run costs: ingest (first line to caught up, serve running) and
// capture-trade throughput with metrics and log shipping off (OTEL_SDK_DISABLED=true,
// no HEC) and on (metrics scraped every second, every log line shipped to a
// local HEC sink), in one run, alternating, so the machine is the same for both.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { writeLargeFeed } from './feed-generator.js';
import { captureTradeRequest, runMeasured, ServeProcess } from './platform.js';

type Report = (name: string, value: string | number) => void;


export async function observabilityCost(work: string, report: Report): Promise<void> {
  const trades = Number(process.env.KEPLER_BENCH_OBSERVE_TRADES ?? 25_000);
  const rounds = Number(process.env.KEPLER_BENCH_OBSERVE_ROUNDS ?? 2);
  // A HEC that takes everything: what shipping costs the platform, not what a real Splunk costs to run.
  let shipped = 0;
  const sink = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (shipped += chunk.length));
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const modes = {
    off: { OTEL_SDK_DISABLED: 'true' },
    on: { KEPLER_SPLUNK_HEC_URL: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, KEPLER_SPLUNK_HEC_TOKEN: 'bench' },
  };
  const results: Record<'off' | 'on', { ingest: number[]; commands: number[] }> = { off: { ingest: [], commands: [] }, on: { ingest: [], commands: [] } };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of ['off', 'on'] as const) {
        const dir = mkdtempSync(join(work, `observe-${mode}-`));
        const env = modes[mode];
        const core = await writeLargeFeed(join(dir, 'CORE_0001.cx1'), { lines: trades, seed: 7, source: 'CORE' });
        const alloc = await writeLargeFeed(join(dir, 'ALLOC_0001.cx1'), { lines: trades, seed: 7, source: 'ALLOC' });
        const serve = await ServeProcess.start(join(dir, 'data'), [], env);
        const scraper = mode === 'on' ? setInterval(() => void fetch(`${serve.url}/metrics`).then((r) => r.text()).catch(() => {}), 1000) : null;
        try {
          const started = process.hrtime.bigint();
          const run = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), core.path, alloc.path], env);
          if (run.code !== 0) throw new Error(run.stderr);
          await serve.caughtUp(core.lines + alloc.lines);
          results[mode].ingest.push((core.lines + alloc.lines) / (Number(process.hrtime.bigint() - started) / 1e9));
          const request = captureTradeRequest('O');
          const load = (duration: number) => autocannon({ url: serve.url, connections: 16, duration, requests: [request] });
          await load(2); // warm-up, not reported
          results[mode].commands.push((await load(8)).requests.average);
        } finally {
          if (scraper) clearInterval(scraper);
          await serve.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    sink.close();
  }
  const best = (values: number[]) => Math.max(...values);
  for (const what of ['ingest', 'commands'] as const) {
    const off = best(results.off[what]);
    const on = best(results.on[what]);
    const unit = what === 'ingest' ? 'lines/s, first line to caught up' : 'capture-trade/s, 16 connections';
    report(`observability off: ${unit}`, Math.round(off).toLocaleString('en'));
    report(`observability on (metrics scraped, logs to HEC): ${unit}`, Math.round(on).toLocaleString('en'));
    report(`observability cost: ${what} (on/off, best of ${rounds})`, `${((1 - on / off) * 100).toFixed(1)} %`);
  }
  report('observability on: bytes shipped to HEC', shipped.toLocaleString('en'));
}
