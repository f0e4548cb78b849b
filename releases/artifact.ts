// The artifact: Kepler as an npm tarball, packed once per cut with the
// candidate's version, published, and never rebuilt. What a candidate records
// about the code (event schema version, projection versions) is read from the
// packed code itself, not from the process that cuts it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface PackedArtifact {
  file: string;
  name: string;
  version: string;
  integrity: string;
  size: number;
}

export interface CodeFacts {
  eventSchemaVersion: number;
  projections: Array<{ name: string; version: number; codeDigest: string }>;
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec('npm', args, {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_logs_max: '0' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const e = error as { code?: string | number; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('npm is not installed');
    throw new Error(`npm ${args.join(' ')} in ${cwd} failed: ${(e.stderr ?? '').trim()}`);
  }
}

/**
 * Copies the files npm would pack from `source` (its "files", .npmignore) into
 * `staging`, with the candidate's version. The staged package.json drops
 * `private`, which exists to stop an accidental publish to the public registry;
 * a release publishes on purpose, to the pipeline's registry.
 */
export async function stagePackage(source: string, version: string, staging: string): Promise<{ dir: string; name: string }> {
  const listing = JSON.parse(await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], source)) as Array<{ name: string; files: Array<{ path: string }> }>;
  const files = listing[0]!.files.map((f) => f.path);
  if (!files.some((f) => f.startsWith('dist/'))) throw new Error(`${source} has no dist/ to pack: build it first (npm run build)`);
  const dir = join(staging, 'package');
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(source, file), join(dir, file));
  }
  const manifest = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.private;
  manifest.version = version;
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, name: String(manifest.name) };
}

export async function packStaged(dir: string, destination: string): Promise<PackedArtifact> {
  await mkdir(destination, { recursive: true });
  const [packed] = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', destination], dir)) as Array<{
    filename: string;
    name: string;
    version: string;
    integrity: string;
    size: number;
  }>;
  return { file: join(destination, packed!.filename), name: packed!.name, version: packed!.version, integrity: packed!.integrity, size: packed!.size };
}

/** Unpacks a tarball into `destination`/package. */
export async function extractTarball(tarball: string, destination: string): Promise<string> {
  await mkdir(destination, { recursive: true });
  await exec('tar', ['-xzf', tarball, '-C', destination]);
  return join(destination, 'package');
}

/** Links the package's node_modules to an installation of the same dependencies (a tarball has none of its own). */
export async function linkDependencies(packageDir: string, nodeModules: string): Promise<void> {
  const link = join(packageDir, 'node_modules');
  if (!existsSync(link)) await symlink(nodeModules, link, 'dir');
}

/** The compiled child script, also when this module runs from its TypeScript source (tests). */
function childScript(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? join(dirname(dirname(here)), 'dist', 'releases', 'package-child.js') : join(dirname(here), 'package-child.js');
}

/** Runs the package's own code in a child process (see package-child.ts); its JSON answer. */
export async function runInPackage<T>(packageDir: string, nodeModules: string, args: readonly string[]): Promise<T> {
  await linkDependencies(packageDir, nodeModules);
  try {
    const { stdout } = await exec(process.execPath, [childScript(), args[0]!, packageDir, ...args.slice(1)], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`the candidate's code failed: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

/** What the code in a package says about its events and read models. */
export function inspectPackage(packageDir: string, nodeModules: string): Promise<CodeFacts> {
  return runInPackage<CodeFacts>(packageDir, nodeModules, ['inspect']);
}
