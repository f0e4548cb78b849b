// Liveness and readiness, for an orchestrator's probes. Live: the process
// answers. Ready: its stores answer, its followers of the event store are
// running, and none of the platform's followers is further behind than the
// limit (KEPLER_READY_MAX_GAP_SECONDS), so what it serves is not stale.
import type { ObservableResult } from '@opentelemetry/api';
import type { FollowerGap } from './followers.js';
import { observableGauge } from './instruments.js';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

export interface ReadinessInput {
  stores: ReadinessCheck[];
  /** This process's followers: running, or stopped (failed, or not started yet). */
  followers: ReadonlyArray<{ name: string; running: boolean }>;
  /** Every follower of the platform, wherever it runs. */
  gaps: readonly FollowerGap[];
  maxGapSeconds: number;
  /** Other dependencies this process's roles need (the RabbitMQ consumer, the publisher). */
  others?: ReadinessCheck[];
}

export function readiness(input: ReadinessInput): Readiness {
  const checks: ReadinessCheck[] = [...input.stores];
  for (const follower of input.followers) {
    checks.push({ name: `follower:${follower.name}`, ok: follower.running, ...(!follower.running && { detail: 'not running' }) });
  }
  for (const gap of input.gaps) {
    const ok = gap.gapSeconds <= input.maxGapSeconds;
    checks.push({
      name: `gap:${gap.name}`,
      ok,
      ...(!ok && { detail: `${gap.gapSeconds.toFixed(1)} s behind the head (${gap.gapEvents} events), more than the ${input.maxGapSeconds} s allowed` }),
    });
  }
  checks.push(...(input.others ?? []));
  return { ready: checks.every((check) => check.ok), checks };
}

/** Runs a probe with a deadline: a store that hangs is as unready as one that fails. */
export async function probe(name: string, check: () => Promise<unknown>, timeoutMs = 2000): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name, ok: true };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** kepler_ready: 1 while GET /health/ready would answer 200, so Prometheus can alert on readiness lost. */
export function observeReadiness(ready: () => Promise<Readiness>): () => void {
  const gauge = observableGauge('kepler.ready', '1 when the process is ready (stores reachable, followers running, none too far behind), else 0');
  const callback = async (result: ObservableResult) => {
    result.observe((await ready()).ready ? 1 : 0);
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}
