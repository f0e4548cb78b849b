// The npm registry the artifacts live in, driven through the npm CLI, so the
// operator's npm configuration (registry credentials, proxies, CA) applies as
// it does to every other npm command. KEPLER_REGISTRY_TOKEN, when set, is the
// token instead: it is written to a private npmrc as a ${...} reference, so its
// value never appears on a command line.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sha512Integrity } from './canonical.js';

const exec = promisify(execFile);

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

export interface RegistryClient {
  readonly url: string;
  publish(tarball: string, tag: string): Promise<void>;
  setDistTag(name: string, version: string, tag: string): Promise<void>;
  distTags(name: string): Promise<Record<string, string>>;
  /**
   * Downloads the tarball the registry serves for name@version, bypassing every
   * cache, and returns its bytes' integrity and the integrity the registry
   * records for it. npm itself refuses bytes that do not match the record.
   */
  download(name: string, version: string, dir: string): Promise<{ file: string; integrity: string; recorded: string | null }>;
}

/** Registry auth key for npmrc: the URL without its scheme, ending in '/'. */
export function nerfDart(url: string): string {
  const u = new URL(url);
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return `//${u.host}${path}`;
}

export class NpmRegistry implements RegistryClient {
  readonly url: string;

  constructor(
    url: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.url = url.endsWith('/') ? url : `${url}/`;
  }

  private async npm(args: readonly string[], cwd?: string): Promise<string> {
    const scratch = await mkdtemp(join(tmpdir(), 'kepler-npm-'));
    const env: NodeJS.ProcessEnv = {
      ...this.env,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      // A fresh cache: a tarball is fetched from the registry, never from a cache that may hold other bytes.
      npm_config_cache: join(scratch, 'cache'),
      npm_config_logs_max: '0',
    };
    const config: string[] = ['--registry', this.url];
    if (this.env.KEPLER_REGISTRY_TOKEN) {
      const npmrc = join(scratch, 'npmrc');
      await writeFile(npmrc, `${nerfDart(this.url)}:_authToken=\${KEPLER_REGISTRY_TOKEN}\n`, { mode: 0o600 });
      config.push('--userconfig', npmrc);
    }
    try {
      const { stdout } = await exec('npm', [...args, ...config], { cwd: cwd ?? scratch, env, maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const e = error as { code?: string | number; stderr?: string; stdout?: string };
      if (e.code === 'ENOENT') throw new RegistryError('npm is not installed');
      const detail = (e.stderr ?? '').split('\n').filter((l) => /npm error/.test(l)).join(' ') || (e.stderr ?? '').trim();
      throw new RegistryError(`npm ${args[0]} against ${this.url} failed: ${detail}`);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async publish(tarball: string, tag: string): Promise<void> {
    await this.npm(['publish', tarball, '--tag', tag, '--ignore-scripts']);
  }

  async setDistTag(name: string, version: string, tag: string): Promise<void> {
    await this.npm(['dist-tag', 'add', `${name}@${version}`, tag]);
  }

  async distTags(name: string): Promise<Record<string, string>> {
    const out = await this.npm(['view', name, 'dist-tags', '--json']);
    return out.trim() ? (JSON.parse(out) as Record<string, string>) : {};
  }

  async download(name: string, version: string, dir: string): Promise<{ file: string; integrity: string; recorded: string | null }> {
    await mkdir(dir, { recursive: true });
    const recordedText = await this.npm(['view', `${name}@${version}`, 'dist.integrity', '--json']);
    const recorded = recordedText.trim() ? (JSON.parse(recordedText) as string) : null;
    const out = await this.npm(['pack', `${name}@${version}`, '--json', '--pack-destination', dir]);
    const [packed] = JSON.parse(out) as Array<{ filename: string }>;
    const file = join(dir, packed!.filename);
    return { file, integrity: sha512Integrity(await readFile(file)), recorded };
  }
}
