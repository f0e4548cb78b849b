// A figure and its baseline measured in alternating bursts, and what the
// rounds say. On a small shared VM a baseline measured once moves by two to one
// between runs minutes apart; measured next to the figure in every round, the
// drift falls on both, and the spread of the per-round ratios shows how far one
// run's ratio can be trusted. Pure but for `alternate`, which only sequences.
import type { Measurement } from './kit.js';

/** One round: the figure and its baseline, measured next to each other. */
export interface Round<M extends Measurement = Measurement> {
  measured: M;
  baseline: M;
}

/** The middle of the rounds' values, and the lowest and highest. */
export interface Spread {
  median: number;
  low: number;
  high: number;
}

export interface RoundRatios {
  /** Each round's measured rate over that round's baseline rate. */
  rate: Spread;
  /** Each round's measured p99 over that round's baseline p99, when every burst has one. */
  p99?: Spread;
  /** The median burst of each side: rate, p50 and p99 each the median over the rounds. */
  measured: Measurement;
  baseline: Measurement;
  /** Each side's rates over the rounds: how far the machine moved during the measurement. */
  rates: { measured: Spread; baseline: Spread };
  /** The per-round ratios, in the order measured. */
  rounds: { rate: number; p99?: number }[];
}

/** The q-quantile, interpolated between the two nearest ranks (the median of an even count is the mean of the middle two). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (at - low);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), low: Math.min(...values), high: Math.max(...values) };
}

/**
 * The ratio of a figure to its baseline as the median of the per-round ratios
 * (never the ratio of the medians: a round's two bursts saw the same machine,
 * bursts of different rounds did not), p99 likewise, beside the median bursts.
 */
export function roundRatios(rounds: readonly Round[]): RoundRatios {
  if (rounds.length === 0) throw new Error('no rounds');
  const perRound = rounds.map(({ measured, baseline }) => {
    const ratio: { rate: number; p99?: number } = { rate: measured.rate / baseline.rate };
    if (measured.p99 !== undefined && baseline.p99 !== undefined) ratio.p99 = measured.p99 / baseline.p99;
    return ratio;
  });
  const p99s = perRound.map((r) => r.p99);
  const result: RoundRatios = {
    rate: spread(perRound.map((r) => r.rate)),
    measured: medianBurst(rounds.map((r) => r.measured)),
    baseline: medianBurst(rounds.map((r) => r.baseline)),
    rates: { measured: spread(rounds.map((r) => r.measured.rate)), baseline: spread(rounds.map((r) => r.baseline.rate)) },
    rounds: perRound,
  };
  if (p99s.every((p): p is number => p !== undefined)) result.p99 = spread(p99s);
  return result;
}

/** Rate, p50 and p99 each the median over the bursts; the unit and detail of the first. */
function medianBurst(bursts: readonly Measurement[]): Measurement {
  const first = bursts[0]!;
  const m: Measurement = { rate: median(bursts.map((b) => b.rate)), unit: first.unit };
  const p50s = bursts.map((b) => b.p50);
  const p99s = bursts.map((b) => b.p99);
  if (p50s.every((p): p is number => p !== undefined)) m.p50 = median(p50s);
  if (p99s.every((p): p is number => p !== undefined)) m.p99 = median(p99s);
  if (first.detail !== undefined) m.detail = first.detail;
  return m;
}

/**
 * Which side goes first in each round: the baseline in even rounds, the figure in
 * odd ones (baseline, figure, figure, baseline, …), so that drift that is linear
 * over two rounds falls on both sides alike.
 */
export function baselineFirst(round: number): boolean {
  return round % 2 === 0;
}

/** Runs `rounds` rounds of one burst each of the baseline and the figure, in ABBA order. */
export async function alternate<M>(rounds: number, burst: { baseline: () => Promise<M>; measured: () => Promise<M> }): Promise<{ measured: M; baseline: M }[]> {
  const done: { measured: M; baseline: M }[] = [];
  for (let round = 0; round < rounds; round++) {
    if (baselineFirst(round)) {
      const baseline = await burst.baseline();
      done.push({ baseline, measured: await burst.measured() });
    } else {
      const measured = await burst.measured();
      done.push({ measured, baseline: await burst.baseline() });
    }
  }
  return done;
}
