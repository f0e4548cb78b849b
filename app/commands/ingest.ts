// `kepler ingest`: the intake is started first, from a module that loads nothing
// of the domain, the event store or telemetry (ingestion/start-intake.js), so
// that a large run's thread loads its own modules and parses its first batches
// while this thread loads what writes them (ingest-run.ts).
import { startIntake, type StartedIntake } from '../../ingestion/start-intake.js';
import type { KeplerConfig } from '../config.js';

/** Returns the process exit code: rejected lines are data, only unreadable files fail. */
export async function ingestCommand(config: KeplerConfig, files: string[], options: { json: boolean }): Promise<number> {
  let intake: StartedIntake;
  try {
    intake = await startIntake(files, { parseOnThread: true });
  } catch (error) {
    const { notStarted } = await import('./ingest-run.js');
    return notStarted(error);
  }
  let run: typeof import('./ingest-run.js');
  try {
    run = await import('./ingest-run.js');
  } catch (error) {
    // The intake's thread would keep the process alive.
    await intake.cancel();
    throw error;
  }
  return run.ingestStarted(config, intake, options);
}
