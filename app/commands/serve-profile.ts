// `kepler serve --profile FILE --env NAME`.
import { checkPartition, loadProfileFile, processEnvironmentFromProfile, settingsFromProfile } from '../../releases/index.js';
import { loadConfig } from '../config.js';
import type { RunningPlatform } from '../serve.js';

/**
 * The environment's deployment profile is the configuration (flags and
 * KEPLER_* variables still override it, as they do a config file). Secrets
 * referenced in it are read from the environment now; --roles and --partition
 * pick this process's share.
 */
export async function serveFromProfile(options: { profile?: string; env?: string; dataDir?: string; port?: number; config?: string; roles?: string; partition?: string; insecure?: boolean }): Promise<RunningPlatform> {
  if (!options.profile || !options.env) throw new Error('--profile and --env go together');
  if (options.config) throw new Error('--profile replaces --config: give one of them');
  const rendered = loadProfileFile(options.profile, options.env);
  const settings = settingsFromProfile(rendered.profile, process.env);
  // What the platform reads from variables (limits when its modules load, logging and telemetry when they start):
  // set before any of it is loaded; a variable already set wins, as it does over a config file.
  const variables = processEnvironmentFromProfile(rendered.profile, process.env);
  const reported = process.env.KEPLER_ENVIRONMENT?.trim();
  if (reported && reported !== rendered.profile.environment) {
    throw new Error(`KEPLER_ENVIRONMENT is ${reported} but the profile is ${rendered.profile.environment}'s: every log line, span and metric would name the wrong environment`);
  }
  for (const [name, value] of Object.entries(variables)) process.env[name] ??= value;
  const config = loadConfig({ settings, dataDir: options.dataDir, port: options.port, roles: options.roles, partition: options.partition, insecure: options.insecure });
  checkPartition(rendered.profile, config.roles, config.partition);
  if (config.amqp && !(rendered.profile.slots as string[]).includes(config.amqp.slot)) {
    throw new Error(`profile ${options.env} runs slots ${rendered.profile.slots.join(', ')}, not ${config.amqp.slot} (KEPLER_SLOT)`);
  }
  process.stderr.write(`kepler: serving profile ${options.env} ${rendered.digest}\n`);
  const { serveCommand } = await import('./serve.js');
  return serveCommand(config);
}
