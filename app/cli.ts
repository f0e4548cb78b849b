#!/usr/bin/env node
// First, before the process allocates much: see the module.
import './tick-object-maps.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { packageRoot } from './package-root.js';
import { regressCommands } from './commands/regress.js';
import { releaseCommands } from './commands/releases.js';
import type { ConfigOverrides, KeplerConfig } from './config.js';
import { ROLES } from './roles.js';

// Commands are loaded when chosen, so `ingest` does not pay for the HTTP stack at start-up.
// The configuration too: config.ts loads the stores' adapters (the event store, better-sqlite3,
// the authentication's checks), about 0.1 s of CPU that `kepler ingest` would otherwise pay
// before its intake thread starts, while nothing else runs (see app/commands/ingest.ts).
const loadConfig = async (overrides: ConfigOverrides): Promise<KeplerConfig> => (await import('./config.js')).loadConfig(overrides);

// `kepler history REF | head`: a reader that stops early is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command()
  .name('kepler')
  .description('Event-sourced trade processing for the CX1 legacy feed')
  .version(version)
  .showHelpAfterError();

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
};

program
  .command('serve')
  .description('run the whole platform in one process on the stores in the data directory')
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--port <n>', 'HTTP port', port)
  .option('--config <file>', 'JSON configuration file')
  .option('--roles <list>', `what this process runs, comma-separated: ${ROLES.join(', ')} (default: all)`)
  .option('--partition <i/n>', 'this process\'s share when n processes run the same roles')
  .option('--insecure', 'listen beyond loopback although authentication is off (no KEPLER_AUTH_ISSUER)')
  .option('--profile <file>', 'run from a deployment profile: a rendered one, or a base profile with ENV.json beside it (with --env)')
  .option('--env <name>', 'the environment of --profile')
  .action(async (options: { dataDir?: string; port?: number; config?: string; roles?: string; partition?: string; insecure?: boolean; profile?: string; env?: string }) => {
    if (options.profile || options.env) {
      const { serveFromProfile } = await import('./commands/serve-profile.js');
      await serveFromProfile(options);
      return;
    }
    const { serveCommand } = await import('./commands/serve.js');
    await serveCommand(await loadConfig({ dataDir: options.dataDir, port: options.port, configFile: options.config, roles: options.roles, partition: options.partition, insecure: options.insecure }));
  });

program
  .command('start')
  .description('serve on ./data and, the first time, load the bundled sample feed (what `npm start` runs)')
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--port <n>', 'HTTP port', port)
  .action(async (options: { dataDir?: string; port?: number }) => {
    const { startCommand } = await import('./commands/serve.js');
    await startCommand(await loadConfig({ dataDir: options.dataDir, port: options.port }));
  });

program
  .command('ingest')
  .description('ingest CX1 files, in the order given; safe while `serve` runs on the same data directory')
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--json', 'one JSON summary per file on stdout')
  .option('--config <file>', 'JSON configuration file')
  .argument('<file...>', 'CX1 extract files')
  .action(async (files: string[], options: { dataDir?: string; json?: boolean; config?: string }) => {
    const { ingestCommand } = await import('./commands/ingest.js');
    process.exitCode = await ingestCommand(() => loadConfig({ dataDir: options.dataDir, configFile: options.config }), files, { json: options.json ?? false });
  });

program
  .command('rebuild')
  .description('rebuild read models from position 0 beside the live ones, then swap them in; safe while serve runs')
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--config <file>', 'JSON configuration file')
  .argument('[projection...]', 'trades, positions, exceptions, feed (all when none is named)')
  .action(async (names: string[], options: { dataDir?: string; config?: string }) => {
    const { rebuildCommand } = await import('./commands/rebuild.js');
    process.exitCode = await rebuildCommand(await loadConfig({ dataDir: options.dataDir, configFile: options.config }), names);
  });

program
  .command('history')
  .description('every event of a trade reference across its streams, in global order')
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--config <file>', 'JSON configuration file')
  .option('--json', 'one JSON object per event, with its data')
  .argument('<ref>', 'trade reference')
  .action(async (ref: string, options: { dataDir?: string; config?: string; json?: boolean }) => {
    const { historyCommand } = await import('./commands/history.js');
    process.exitCode = await historyCommand(await loadConfig({ dataDir: options.dataDir, configFile: options.config }), ref, { json: options.json ?? false });
  });

program
  .command('state')
  .description('a trade as it stood at a global position or a point in time')
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--config <file>', 'JSON configuration file')
  .option('--at <position|time>', 'global position, or ISO date-time')
  .argument('<ref>', 'trade reference')
  .action(async (ref: string, options: { dataDir?: string; config?: string; at?: string }) => {
    const { stateCommand } = await import('./commands/history.js');
    process.exitCode = await stateCommand(await loadConfig({ dataDir: options.dataDir, configFile: options.config }), ref, options.at);
  });

program
  .command('publish')
  .description('send the detail lines of CX1 files to the RabbitMQ feed exchange, one message per line')
  .option('--config <file>', 'JSON configuration file')
  .option('--json', 'one JSON summary per file')
  .argument('<file...>', 'CX1 extract files')
  .action(async (files: string[], options: { config?: string; json?: boolean }) => {
    const { publishCommand } = await import('./commands/messaging.js');
    process.exitCode = await publishCommand(await loadConfig({ configFile: options.config }), files, { json: options.json ?? false });
  });

const wholeNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

program
  .command('slot')
  .description('blue/green: cutover SLOT, live SLOT (the short form), rollback ID, drain SLOT, status')
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--config <file>', 'JSON configuration file')
  .option('--actor <name>', 'who runs it, a label (default: KEPLER_ACTOR, else the user name); refused with authentication configured: the actor is then KEPLER_TOKEN’s principal')
  .option('--until-step <n>', 'cutover: stop after step n, leaving the plan halted part-way', wholeNumber)
  .option('--deadline <seconds>', 'drain: hand over what is still in flight after this long (default 300)', wholeNumber)
  .option('--partitions <n>', 'how many partitions each slot runs its processors in (default: from --partition)', wholeNumber)
  .option('--json', 'status: as JSON')
  .argument('<action>', 'cutover | live | rollback | drain | status')
  .argument('[slot-or-id]', 'blue or green; for rollback, the cut-over id')
  .action(async (action: string, argument: string | undefined, options: { dataDir?: string; config?: string; actor?: string; untilStep?: number; deadline?: number; partitions?: number; json?: boolean }) => {
    const { slotCommand } = await import('./commands/slot.js');
    const config = await loadConfig({ dataDir: options.dataDir, configFile: options.config, ...(options.partitions && { partition: `0/${options.partitions}` }) });
    process.exitCode = await slotCommand(config, action, argument, options);
  });

program
  .command('topology')
  .description('RabbitMQ topology: plan [--json], apply [--plan FILE] [--prune] [--force], drift [--exit-code]')
  .option('--data-dir <dir>', 'where the embedded stores live (the slot registry is read from the event store)')
  .option('--config <file>', 'JSON configuration file')
  .option('--json', 'plan/drift: the plan as JSON, {basedOn, ops}')
  .option('--prune', 'also delete exchanges, queues and policies Kepler owns and no longer wants')
  .option('--force', 'apply: delete or replace queues even if they hold messages (after a drain)')
  .option('--plan <file>', 'apply: carry out this saved plan, refused if the broker changed since')
  .option('--exit-code', 'drift: exit 1 when there is drift')
  .argument('<action>', 'plan | apply | drift')
  .action(async (action: string, options: { dataDir?: string; config?: string; json?: boolean; prune?: boolean; force?: boolean; plan?: string; exitCode?: boolean }) => {
    if (!['plan', 'apply', 'drift'].includes(action)) program.error(`kepler topology: the actions are plan, apply and drift, not "${action}"`);
    const { topologyCommand } = await import('./commands/topology.js');
    process.exitCode = await topologyCommand(await loadConfig({ dataDir: options.dataDir, configFile: options.config }), action as 'plan' | 'apply' | 'drift', options);
  });

program
  .command('migrate')
  .description('apply pending schema migrations to the PostgreSQL stores the configuration names')
  .option('--config <file>', 'JSON configuration file')
  .action(async (options: { config?: string }) => {
    const { migrateCommand } = await import('./commands/migrate.js');
    process.exitCode = await migrateCommand(await loadConfig({ configFile: options.config }));
  });

program
  .command('status')
  .description("each follower's position and gap to the head and, with RabbitMQ, the depth and consumers of Kepler's queues")
  .option('--data-dir <dir>', 'where the embedded stores live (default: KEPLER_DATA_DIR, the config file, or ./data)')
  .option('--config <file>', 'JSON configuration file')
  .option('--json', 'one JSON object')
  .action(async (options: { dataDir?: string; config?: string; json?: boolean }) => {
    const { statusCommand } = await import('./commands/status.js');
    process.exitCode = await statusCommand(await loadConfig({ dataDir: options.dataDir, configFile: options.config }), { json: options.json ?? false });
  });

for (const command of regressCommands()) program.addCommand(command);
for (const command of releaseCommands()) program.addCommand(command);

// A store or broker that cannot be reached, or that refuses Kepler, or a TLS file the configuration
// names that cannot be read, is told in one line that names it and what to check; a stack of Kepler's
// own frames would not help the operator. Anything else is a bug,
// and keeps its stack. (Matched by name: this module stays free of the stores' and messaging's imports.)
const TOLD_IN_ONE_LINE = new Set(['StoreOpenError', 'BrokerUnreachableError', 'TlsFileError']);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof Error) || !TOLD_IN_ONE_LINE.has(error.name)) throw error;
  process.stderr.write(`kepler ${process.argv[2] ?? ''}: ${error.message}\n`);
  process.exitCode = 1;
}
