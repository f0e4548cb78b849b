// Closed-loop HTTP load with autocannon, the one way every route of the bench is
// loaded (the empty route included), so that their figures compare.
import autocannon from 'autocannon';
import { wholeNumberSetting } from '../eventstore/index.js';
import type { Measurement } from './kit.js';

export interface Load {
  url: string;
  connections: number;
  seconds: number;
  requests: autocannon.Request[];
}

export interface LoadResult extends Measurement {
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Closed-loop depths the HTTP figures are taken at: each connection sends its next request when answered. */
export const CONNECTIONS = [8, 16, 32] as const;
/**
 * A route and the empty route are loaded in alternating bursts at each depth (bench/rounds.ts):
 * ROUNDS rounds of one BURST_SECONDS burst each, in ABBA order. KEPLER_BENCH_HTTP_ROUNDS (default 4,
 * even so that each side goes first as often) and KEPLER_BENCH_HTTP_BURST_S (default 3) override them.
 */
export const ROUNDS = Math.max(1, setting('KEPLER_BENCH_HTTP_ROUNDS', 4));
export const BURST_SECONDS = Math.max(1, setting('KEPLER_BENCH_HTTP_BURST_S', 3));
/** Not reported: the first seconds measure the JIT compiler, not the platform. KEPLER_BENCH_HTTP_WARM_UP_S overrides it. */
export const WARM_UP_SECONDS = setting('KEPLER_BENCH_HTTP_WARM_UP_S', 3);

/** A typo is refused by name, never read as NaN. */
function setting(name: string, fallback: number): number {
  return wholeNumberSetting(process.env[name], name) ?? fallback;
}

/**
 * Requests per second, and latency percentiles to the microsecond: autocannon's
 * own histogram keeps whole milliseconds, too coarse for routes answered in one,
 * so every response time is kept here.
 */
export function load({ url, connections, seconds, requests }: Load): Promise<LoadResult> {
  const times: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, requests }, (error, result) => {
      if (error) return reject(error);
      const sorted = Float64Array.from(times).sort();
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      resolve({
        rate: result.requests.average,
        unit: 'requests',
        p50: at(0.5),
        p99: at(0.99),
        non2xx: result.non2xx,
        errors: result.errors,
        detail: `${connections} connections${result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`,
      });
    });
    instance.on('response', (_client: unknown, _status: number, _bytes: number, milliseconds: number) => times.push(milliseconds));
  });
}
