// `kepler ingest`: the intake is started first, from a module that loads nothing
// of the domain, the event store or telemetry (ingestion/start-intake.js), so
// that a large run's thread loads its own modules and parses its first batches
// while this thread loads what writes them (ingest-run.ts) and reads its
// configuration (the CLI hands it over unread: see app/cli.ts).
import { startIntake, type StartedIntake } from '../../ingestion/start-intake.js';
import type { KeplerConfig } from '../config.js';

/**
 * Returns the process exit code: rejected lines are data, only unreadable files fail. The
 * configuration is read once the intake has started (`configOf`): reading it loads the stores'
 * adapters, which the thread need not wait for. A wrong configuration fails the run as before,
 * before any unreadable file is told.
 */
export async function ingestCommand(configOf: () => Promise<KeplerConfig>, files: string[], options: { json: boolean }): Promise<number> {
  let intake: StartedIntake;
  try {
    intake = await startIntake(files, { parseOnThread: true });
  } catch (error) {
    // A wrong configuration is told first, as when it was read before the files were checked.
    await configOf();
    const { notStarted } = await import('./ingest-run.js');
    return notStarted(error);
  }
  let run: typeof import('./ingest-run.js');
  let config: KeplerConfig;
  try {
    [run, config] = await Promise.all([import('./ingest-run.js'), configOf()]);
  } catch (error) {
    // The intake's thread would keep the process alive.
    await intake.cancel();
    throw error;
  }
  return run.ingestStarted(config, intake, options);
}
