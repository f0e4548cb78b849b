// What every section of `npm run bench` shares: a scratch directory, the
// report (every figure as a ratio to the machine's own limit first, the
// absolute figures second), and the baselines that measure those limits in the
// same run.
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Baselines } from './baselines.js';
import { roundRatios, type Round, type Spread } from './rounds.js';

/** A section prints its figures through the bench; it never passes or fails on them. */
export type Section = (bench: Bench) => Promise<void>;

/** A measured throughput, and the latency that came with it when there is one. */
export interface Measurement {
  /** Per second: lines, events, requests. */
  rate: number;
  unit: string;
  /** Milliseconds, when the figure is a load test's. */
  p50?: number;
  p99?: number;
  /** Whatever else the reader needs to judge the figure (seconds, counts, errors). */
  detail?: string;
}

export interface Ratio {
  name: string;
  /** measured rate / baseline rate. */
  rate: number;
  /** measured p99 / baseline p99, for load tests. */
  p99?: number;
  measured: Measurement;
  baseline: Measurement & { of: string };
  /**
   * When the figure and its baseline were measured in alternating rounds: `rate` and `p99` above are the
   * medians of the per-round ratios, `measured` and `baseline` the median bursts; here the lowest and
   * highest round ratio of each, and every round's ratios in the order measured.
   */
  rounds?: { low: number; high: number; p99?: { low: number; high: number }; each: { rate: number; p99?: number }[] };
}

export class Bench {
  readonly figures: Record<string, string | number> = {};
  readonly ratios: Ratio[] = [];
  private currentBaselines: Baselines;

  constructor(
    /** A scratch directory, removed when the run ends. */
    readonly work: string,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {
    this.currentBaselines = new Baselines(work);
  }

  /** The limits, measured when a section first asks for them in this pass. */
  get baselines(): Baselines {
    return this.currentBaselines;
  }

  /** A repeated pass measures the limits again, so that each pass's ratios are taken side by side. */
  startPass(): void {
    this.currentBaselines = new Baselines(this.work);
  }

  /** A fresh scratch directory under the run's, never one a previous pass used. */
  scratch(name: string): string {
    return mkdtempSync(join(this.work, `${name}-`));
  }

  /** A figure with no baseline (rebuild seconds, peak memory, non-2xx answers). */
  figure(name: string, value: string | number): void {
    this.figures[name] = value;
    this.out.write(`  ${name.padEnd(58)} ${typeof value === 'number' ? value.toLocaleString('en') : value}\n`);
  }

  /** A figure beside the limit it is judged against: the ratio first, then both absolute figures. */
  ratio(name: string, measured: Measurement, baseline: Measurement & { of: string }): Ratio {
    const ratio: Ratio = { name, rate: measured.rate / baseline.rate, measured, baseline };
    if (measured.p99 !== undefined && baseline.p99 !== undefined) ratio.p99 = measured.p99 / baseline.p99;
    this.ratios.push(ratio);
    const p99 = ratio.p99 === undefined ? '' : `, p99 ${ratio.p99.toFixed(2)} ×`;
    this.out.write(`  ${name.padEnd(58)} ${ratio.rate.toFixed(2)} × ${baseline.of}${p99}\n`);
    this.out.write(`  ${''.padEnd(58)}   ${describe(measured)}; ${baseline.of}: ${describe(baseline)}\n`);
    return ratio;
  }

  /**
   * A figure measured in rounds beside its baseline (bench/rounds.ts): the median of the per-round
   * ratios with the lowest and highest round beside it, p99 likewise; then the median burst of each
   * side, with the range of its rates over the rounds (how far the machine moved meanwhile).
   */
  ratioOfRounds(name: string, rounds: readonly Round[], of: string): Ratio {
    const r = roundRatios(rounds);
    const ratio: Ratio = {
      name,
      rate: r.rate.median,
      ...(r.p99 ? { p99: r.p99.median } : {}),
      measured: r.measured,
      baseline: { ...r.baseline, of },
      rounds: { low: r.rate.low, high: r.rate.high, ...(r.p99 ? { p99: { low: r.p99.low, high: r.p99.high } } : {}), each: r.rounds },
    };
    this.ratios.push(ratio);
    const range = (s: Spread) => `${s.low.toFixed(2)}–${s.high.toFixed(2)}`;
    const p99 = r.p99 ? `, p99 ${r.p99.median.toFixed(2)} × (${range(r.p99)})` : '';
    this.out.write(`  ${name.padEnd(58)} ${r.rate.median.toFixed(2)} × ${of} (rounds ${range(r.rate)})${p99}\n`);
    this.out.write(`  ${''.padEnd(58)}   median of ${rounds.length} rounds: ${describe(r.measured, r.rates.measured)}; ${of}: ${describe(r.baseline, r.rates.baseline)}\n`);
    return ratio;
  }

  /** A time judged against the time a baseline took (lower is better): `first line to caughtUp ≤ 3 × raw append`. */
  times(name: string, seconds: number, baseline: { seconds: number; of: string; detail?: string }): void {
    const factor = seconds / baseline.seconds;
    this.figures[name] = `${factor.toFixed(2)} × ${baseline.of}`;
    this.out.write(`  ${name.padEnd(58)} ${factor.toFixed(2)} × the time of ${baseline.of}\n`);
    this.out.write(`  ${''.padEnd(58)}   ${seconds.toFixed(1)} s; ${baseline.of}: ${baseline.seconds.toFixed(1)} s${baseline.detail ? ` (${baseline.detail})` : ''}\n`);
  }

  /** Everything measured, as one line of JSON for whoever keeps the figures. */
  summary(): string {
    return JSON.stringify({ machine: machine(), figures: this.figures, ratios: this.ratios });
  }
}

function describe(m: Measurement, rates?: Spread): string {
  const whole = (v: number) => Math.round(v).toLocaleString('en');
  const latency = m.p99 === undefined ? '' : `, p50 ${m.p50?.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms`;
  const range = rates ? ` (${whole(rates.low)}–${whole(rates.high)})` : '';
  return `${whole(m.rate)} ${m.unit}/s${range}${latency}${m.detail ? ` (${m.detail})` : ''}`;
}

/** What the figures were measured on; the load average says whether the machine was shared at the time. */
export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

export function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
