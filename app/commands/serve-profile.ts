// `kepler serve --profile FILE --env NAME`.
import { checkPartition, loadProfileFile, settingsFromProfile } from '../../releases/index.js';
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
  const config = loadConfig({ settings, dataDir: options.dataDir, port: options.port, roles: options.roles, partition: options.partition, insecure: options.insecure ?? false });
  checkPartition(rendered.profile, config.roles, config.partition);
  if (config.amqp && !(rendered.profile.slots as string[]).includes(config.amqp.slot)) {
    throw new Error(`profile ${options.env} runs slots ${rendered.profile.slots.join(', ')}, not ${config.amqp.slot} (KEPLER_SLOT)`);
  }
  // Limits the platform reads from the environment when its modules load: set before they are loaded.
  process.env.KEPLER_PROCESSOR_CACHE ??= String(rendered.profile.limits.processorCache);
  process.env.KEPLER_REBUILD_DOCUMENTS ??= String(rendered.profile.limits.rebuildDocuments);
  process.stderr.write(`kepler: serving profile ${options.env} ${rendered.digest}\n`);
  const { serveCommand } = await import('./serve.js');
  return serveCommand(config);
}
