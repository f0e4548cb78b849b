#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from './config.js';

// Commands are loaded when chosen, so `ingest` does not pay for the HTTP stack at start-up.

const program = new Command()
  .name('kepler')
  .description('Event-sourced trade processing for the CX1 legacy feed')
  .showHelpAfterError();

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
};

program
  .command('serve')
  .description('run the whole platform in one process on the stores in the data directory')
  .option('--data-dir <dir>', 'where the embedded stores live', './data')
  .option('--port <n>', 'HTTP port', port)
  .option('--config <file>', 'JSON configuration file')
  .action(async (options: { dataDir: string; port?: number; config?: string }) => {
    const { serveCommand } = await import('./commands/serve.js');
    await serveCommand(loadConfig({ dataDir: options.dataDir, port: options.port, configFile: options.config }));
  });

program
  .command('start')
  .description('serve on ./data and, the first time, load the bundled sample feed (what `npm start` runs)')
  .option('--data-dir <dir>', 'where the embedded stores live', './data')
  .option('--port <n>', 'HTTP port', port)
  .action(async (options: { dataDir: string; port?: number }) => {
    const { startCommand } = await import('./commands/serve.js');
    await startCommand(loadConfig({ dataDir: options.dataDir, port: options.port }));
  });

program
  .command('ingest')
  .description('ingest CX1 files, in the order given; safe while `serve` runs on the same data directory')
  .option('--data-dir <dir>', 'where the embedded stores live', './data')
  .option('--json', 'one JSON summary per file on stdout')
  .option('--config <file>', 'JSON configuration file')
  .argument('<file...>', 'CX1 extract files')
  .action(async (files: string[], options: { dataDir: string; json?: boolean; config?: string }) => {
    const { ingestCommand } = await import('./commands/ingest.js');
    process.exitCode = await ingestCommand(loadConfig({ dataDir: options.dataDir, configFile: options.config }), files, { json: options.json ?? false });
  });

await program.parseAsync(process.argv);
