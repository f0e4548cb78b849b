import { readFile } from 'node:fs/promises';
import type { KeplerConfig } from '../config.js';
import { brokerTarget, openOperations, operatorActor, OperatorRefusedError } from './operations.js';

interface TopologyFlags {
  json?: boolean;
  prune?: boolean;
  force?: boolean;
  plan?: string;
  exitCode?: boolean;
}

/** `kepler topology plan|apply|drift`: the reconciler, by hand. */
export async function topologyCommand(config: KeplerConfig, action: 'plan' | 'apply' | 'drift', flags: TopologyFlags): Promise<number> {
  // apply changes the broker: with authentication on, it takes an operator's token with slots:operate.
  try {
    await operatorActor(config.auth, `topology ${action}`, undefined);
  } catch (error) {
    if (!(error instanceof OperatorRefusedError)) throw error;
    process.stderr.write(`kepler topology ${action}: ${error.message}\n`);
    return 2;
  }
  const ops = await openOperations(config, `topology ${action}`);
  if (!ops) return 2;
  const { applyPlan, converge, describeAction, planFor, StalePlanError } = await import('../../topology/index.js');
  const { readRegistry } = await import('../../slots/index.js');
  try {
    const target = await brokerTarget(ops.amqp);
    const routing = async () => (await readRegistry(ops.store)).routing;
    const out = (line: string) => process.stdout.write(`${line}\n`);
    if (action === 'apply') {
      if (flags.plan) {
        const plan = JSON.parse(await readFile(flags.plan, 'utf8')) as Awaited<ReturnType<typeof planFor>>;
        try {
          const report = await applyPlan(plan, target.access, { checkDigest: true, force: flags.force ?? false });
          for (const action of report.applied) out(`applied: ${describeAction(action)}`);
          for (const { reason } of report.refused) out(reason.startsWith('refused') ? reason : `refused: ${reason}`);
          return report.refused.length > 0 ? 1 : 0;
        } catch (error) {
          if (!(error instanceof StalePlanError)) throw error;
          process.stderr.write(`kepler topology apply: ${error.message}\n`);
          return 3;
        }
      }
      const result = await converge(target, routing, { prune: flags.prune ?? false, force: flags.force ?? false });
      if (flags.json) out(JSON.stringify({ applied: result.applied, refused: result.refused, remaining: result.remaining }));
      else {
        for (const action of result.applied) out(`applied: ${describeAction(action)}`);
        for (const { reason } of result.refused) out(reason.startsWith('refused') ? reason : `refused: ${reason}`);
        out(result.remaining.ops.length === 0 ? 'the broker matches the desired topology' : `${result.remaining.ops.length} operations remain (see kepler topology plan)`);
      }
      return result.remaining.ops.length > 0 ? 1 : 0;
    }
    const plan = await planFor(target, await routing(), { prune: flags.prune ?? false });
    if (flags.json) out(JSON.stringify(plan));
    else {
      out(`broker state ${plan.basedOn} (vhost ${plan.vhost}, prefix ${plan.prefix})`);
      if (plan.ops.length === 0) out(action === 'drift' ? 'no drift' : 'nothing to do');
      for (const op of plan.ops) out(`${op.risk.padEnd(6)} ${describeAction(op)}  — ${op.why}; undo: ${describeAction(op.inverse)}${op.blocked ? `  [blocked: ${op.blocked}]` : ''}`);
      for (const kept of plan.kept) out(`kept   ${kept}: owned and no longer desired (--prune deletes it)`);
    }
    return action === 'drift' && flags.exitCode && plan.ops.length > 0 ? 1 : 0;
  } finally {
    await ops.close();
  }
}
