import type { KeplerConfig } from '../config.js';
import { brokerTarget, openOperations, operatorActor, OperatorRefusedError } from './operations.js';

interface SlotFlags {
  actor?: string;
  untilStep?: number;
  deadline?: number;
  json?: boolean;
}

/** `kepler slot cutover|live|rollback|drain|status`. */
export async function slotCommand(config: KeplerConfig, action: string, argument: string | undefined, flags: SlotFlags): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`kepler slot ${action}: ${message}\n`);
    return 2;
  };
  const { isSlot, topologyNames } = await import('../../messaging/index.js');
  if (['cutover', 'live', 'drain'].includes(action) && (argument === undefined || !isSlot(argument))) return fail(`a slot is blue or green, not "${argument ?? ''}"`);
  if (action === 'rollback' && !argument) return fail('name the cut-over to roll back (see kepler slot status)');
  if (!['cutover', 'live', 'rollback', 'drain', 'status'].includes(action)) return fail('the actions are cutover, live, rollback, drain and status');
  // Who runs it is settled before anything is opened: a refused operator touches nothing.
  let actor;
  try {
    actor = await operatorActor(config.auth, `slot ${action}`, flags.actor);
  } catch (error) {
    if (error instanceof OperatorRefusedError) return fail(error.message);
    throw error;
  }
  const ops = await openOperations(config, `slot ${action}`);
  if (!ops) return 2;
  const slots = { ...(await import('../../slots/index.js')), ...(await import('../../slots/operations.js')) };
  const abort = new AbortController();
  const interrupt = () => {
    process.stderr.write('stopping after the step in progress…\n');
    abort.abort();
  };
  process.once('SIGINT', interrupt);
  try {
    const context = {
      store: ops.store,
      broker: await brokerTarget(ops.amqp),
      names: topologyNames(ops.amqp.prefix),
      actor,
      partitions: config.partition.count,
      say: (line: string) => process.stdout.write(`${line}\n`),
    };
    // Halted where --until-step asked is what the operator wanted: only a halt short of it (a failed
    // check, Ctrl-C) is a failure.
    const finished = (state: { id: string | null; status: string | null; done: number; steps: readonly unknown[] }, untilStep?: number) => {
      process.stdout.write(`cut-over ${state.id}: ${state.status} (${state.done}/${state.steps.length} steps)\n`);
      if (state.status === 'completed' || state.status === 'rolled-back') return 0;
      return state.status === 'halted' && untilStep !== undefined && state.done >= untilStep ? 0 : 1;
    };
    switch (action) {
      case 'cutover':
      case 'live': {
        const planned = await slots.planCutover(context, argument as 'blue' | 'green').catch((error: unknown) => {
          if (error instanceof slots.CutoverRefusedError) return error;
          throw error;
        });
        if (planned instanceof Error) {
          process.stdout.write(`${planned.message}\n`);
          return 0;
        }
        process.stdout.write(`cut-over ${planned.id}: ${planned.from ?? 'no slot'} → ${planned.to}, ${planned.steps.length} steps (undo with: kepler slot rollback ${planned.id})\n`);
        return finished(await slots.runCutover(context, planned.id!, { signal: abort.signal, ...(flags.untilStep !== undefined && { untilStep: flags.untilStep }) }), flags.untilStep);
      }
      case 'rollback':
        return finished(await slots.rollbackCutover(context, argument!, { signal: abort.signal }));
      case 'drain': {
        const deadlineMs = (flags.deadline ?? 300) * 1000;
        const progress = await drainProgress();
        const result = await slots.drainSlot(context, argument as 'blue' | 'green', { deadlineMs, signal: abort.signal, onProgress: progress.update });
        progress.stop();
        process.stdout.write(
          result.owned === 0
            ? `${argument} owns no trade stream: idle, intact for a rollback (${result.handedOver} handed over${result.forced > 0 ? `, ${result.forced} at the deadline` : ''})\n`
            : `${argument} still owns ${result.owned} trade streams\n`,
        );
        return result.owned === 0 ? 0 : 1;
      }
      default: {
        const status = await slots.slotStatus(context);
        if (flags.json) process.stdout.write(`${JSON.stringify(status)}\n`);
        else process.stdout.write(describeStatus(status));
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof slots.CutoverRefusedError || error instanceof slots.RegistryChangedError) return fail(error.message);
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    await ops.close();
  }
}

/** A progress bar on a terminal; a line per change elsewhere (logs, CI). */
async function drainProgress(): Promise<{ update: (p: { owned: number; handedOver: number; progress: number | null; head: number }) => void; stop: () => void }> {
  if (!process.stderr.isTTY) {
    let last = '';
    return {
      update: (p) => {
        const line = `owned ${p.owned}, handed over ${p.handedOver}, processors at ${p.progress ?? 'never ran'} of ${p.head}`;
        if (line !== last) process.stdout.write(`${line}\n`);
        last = line;
      },
      stop: () => {},
    };
  }
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ format: 'draining [{bar}] {value}/{total} trade streams handed over | processors at {progress} of {head}', stream: process.stderr }, Presets.shades_classic);
  let started = false;
  return {
    update: (p) => {
      const total = p.owned + p.handedOver;
      if (!started) bar.start(total, p.handedOver, { progress: p.progress ?? '-', head: p.head });
      started = true;
      bar.setTotal(Math.max(total, 1));
      bar.update(p.handedOver, { progress: p.progress ?? '-', head: p.head });
    },
    stop: () => bar.stop(),
  };
}

function describeStatus(status: Awaited<ReturnType<typeof import('../../slots/operations.js').slotStatus>>): string {
  const lines = [`live: ${status.live ?? 'none'}   store head: ${status.head}`];
  lines.push(`routing: feed → ${status.routing.feed.join(', ') || 'unrouted'}; events ← ${status.routing.events.join(', ') || 'none'}; publishing: ${status.routing.publishing?.join(', ') ?? 'every slot (nothing recorded yet)'}`);
  for (const [slot, s] of Object.entries(status.slots)) {
    lines.push(
      `${slot.padEnd(5)}  owns ${s.ownedStreams} trade streams; processors at ${s.processors ?? 'never ran'}; publisher at ${s.publisher ?? 'never ran'}; ` +
        `queue ${s.queue ? `${s.queue.messages} messages, ${s.queue.consumers} consumers` : 'unknown'}`,
    );
  }
  lines.push('last cut-overs:');
  for (const c of status.cutovers) lines.push(`  ${c.id}  ${c.from ?? 'none'} → ${c.to}  ${c.status} (${c.done}/${c.steps})${c.last ? `  last: ${c.last.what} by ${c.last.actor.subject} at ${c.last.at}` : ''}`);
  return `${lines.join('\n')}\n`;
}
