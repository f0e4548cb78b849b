// `kepler regress`: PROD against UAT, per correlation ID, with reconcilers.
//
//   kepler regress --prod prod.json --uat uat.json [--reconcilers DIR] [--follow]
//                  [--report DIR] [--fail-on new|any|none] ...
//   kepler regress-accept --signature "trades | docs.trades.price | CHANGED | exact" --by alice --reason "..."
//   kepler regress-serve --runs DIR [--port N]
//
// Exit status: 0 the gate passed, 1 the gate failed, 2 the run could not be done.
//
// The commands are declared here and run from regress-run.ts, loaded when one of them runs: the
// regression engine brings every store adapter and the HTTP stack, which every other command of
// the CLI (ingest, serve, slot, ...) paid for at start-up.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { FailOn } from '../../regression/index.js';

export interface RegressCliOptions {
  prod?: string;
  uat?: string;
  baseline?: string;
  reconcilers?: string[];
  builtin?: boolean;
  only?: string[];
  follow?: boolean;
  report?: string;
  runDir?: string;
  known?: string;
  failOn?: FailOn;
  workers?: number;
  shards?: number;
  quietMs?: number;
  timeoutMs?: number;
  prodRange?: { from?: number; to?: number };
  uatRange?: { from?: number; to?: number };
  fresh?: boolean;
  checksumsOnly?: boolean;
  rejudge?: boolean;
  rejudgeAll?: boolean;
  reportEvery?: number;
  maxPairs?: number;
  readModelWaitMs?: number;
  progress?: boolean;
}

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stops a follow run (SIGINT/SIGTERM by default). */
  signal?: AbortSignal;
}

const whole = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

const range = (value: string) => {
  const match = /^(\d*)\.\.(\d*)$/.exec(value);
  if (!match) throw new InvalidArgumentError('a range of positions is FROM..TO (either may be left out)');
  return { ...(match[1] ? { from: Number(match[1]) } : {}), ...(match[2] ? { to: Number(match[2]) } : {}) };
};

const list = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** The commands to add to the `kepler` program. */
export function regressCommands(): Command[] {
  return [regressCommand(), regressAcceptCommand(), regressServeCommand()];
}

export function regressCommand(): Command {
  return new Command('regress')
    .description('compare what PROD and UAT produced, per correlation ID, with reconcilers; exit 1 when the gate fails')
    .option('--prod <config>', 'Kepler config file of PROD (event store and read store)')
    .option('--uat <config>', 'Kepler config file of UAT (running the candidate)')
    .option('--baseline <config>', 'a second PROD-like environment: its differences from PROD are noise, subtracted from the report')
    .option('--reconcilers <dir>', 'directory of reconciler modules (.js/.mjs/.ts), added to the shipped ones (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--no-builtin', 'do not run the shipped trades, bookings and positions reconcilers')
    .option('--only <names>', 'run only these reconcilers (comma-separated)', list)
    .option('--follow', 'follow both event stores live until interrupted (default: a batch run up to each store’s head)')
    .option('--report <dir>', 'where report.html, report.json and junit.xml go', './regression-report')
    .option('--run-dir <dir>', 'durable run state (default: <report>/run); an existing run resumes')
    .option('--known <file>', 'the known-difference ledger', './known-differences.json')
    .addOption(new Option('--fail-on <what>', 'exit 1 on new signatures, on any disagreement, or never').choices(FAIL_ON_CHOICES).default('new'))
    .option('--workers <n>', 'worker threads (0: in this thread)', whole('--workers'))
    .option('--shards <n>', 'shard files (fixed when the run is created)', whole('--shards'))
    .option('--quiet-ms <ms>', 'a side has settled after this long without output', whole('--quiet-ms'))
    .option('--timeout-ms <ms>', 'how long a side is awaited', whole('--timeout-ms'))
    .option('--prod-range <from..to>', 'bounded range of PROD positions for a batch run', range)
    .option('--uat-range <from..to>', 'bounded range of UAT positions for a batch run', range)
    .option('--fresh', 'discard the run state in the run directory and start again')
    .option('--checksums-only', 'batch mode: read both sides and compare per-partition checksums of their correlation IDs, without diffing any field')
    .option('--rejudge', 're-judge stored pairs decided by another reconciler version, without reading any environment')
    .option('--rejudge-all', 're-judge every stored pair, without reading any environment')
    .option('--report-every <s>', 'follow mode: rewrite the reports this often (seconds)', whole('--report-every'), 10)
    .option('--max-pairs <n>', 'most pairs in the report drill-down', whole('--max-pairs'), 500)
    .option('--read-model-wait-ms <ms>', 'batch mode: how long to wait for read models to catch up', whole('--read-model-wait-ms'))
    .option('--no-progress', 'no progress output')
    .exitOverride((error) => {
      if (error.exitCode === 0) process.exit(0);
      process.exit(2);
    })
    .action(async (options: RegressCliOptions) => {
      const { regress } = await import('./regress-run.js');
      process.exitCode = await regress(options);
    });
}

/**
 * `--fail-on`'s choices, named here so that declaring the option loads nothing: `satisfies` makes this
 * fail to compile when the engine's FailOn gains or loses a value.
 */
const FAIL_ON_CHOICES = Object.keys({ new: true, any: true, none: true } satisfies Record<FailOn, true>);

export interface AcceptOptions {
  signature: string;
  by?: string;
  reason?: string;
  expires?: string;
  revoke?: boolean;
  known: string;
}

export interface ServeRunsOptions {
  runs: string;
  port: number;
  host: string;
  known: string;
  config?: string;
  insecure?: boolean;
}

export function regressAcceptCommand(): Command {
  return new Command('regress-accept')
    .description('accept a difference signature into the known-difference ledger (or revoke it)')
    .requiredOption('--signature <signature>', 'the signature as the report prints it: "reconciler | path | KIND | rule"')
    .option('--by <name>', 'who accepts it')
    .option('--reason <text>', 'why it is accepted')
    .option('--expires <date>', 'YYYY-MM-DD after which it no longer applies')
    .option('--revoke', 'remove the signature from the ledger instead')
    .option('--known <file>', 'the known-difference ledger', './known-differences.json')
    .action(async (options: AcceptOptions) => {
      const { acceptSignature } = await import('./regress-run.js');
      acceptSignature(options);
    });
}

export function regressServeCommand(): Command {
  return new Command('regress-serve')
    .description('serve regression runs, verdicts and differences over HTTP (GET /regression/runs...)')
    .requiredOption('--runs <dir>', 'a directory of runs (each a report dir or run dir)')
    .option('--port <n>', 'HTTP port', whole('--port'), 3100)
    .option('--host <host>', 'HTTP host', 'localhost')
    .option('--known <file>', 'the known-difference ledger', './known-differences.json')
    .option('--config <file>', 'Kepler configuration file: authentication, HTTPS, rate limit (as for serve)')
    .option('--insecure', 'listen beyond loopback although authentication is off')
    .action(async (options: ServeRunsOptions) => {
      const { serveRuns } = await import('./regress-run.js');
      await serveRuns(options);
    });
}
