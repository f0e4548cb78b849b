// Finding reconcilers: the shipped ones, plus modules in a directory.
//
// A reconciler module exports (default or named) a reconciler, a list of them,
// or a factory `(kit) => reconciler | reconciler[]` that receives this API, so
// a module needs no import path into Kepler at all:
//
//   import type { ReconcilerKit } from '<kepler>/regression/index.js';
//   export default ({ defineReconciler, eventPayloads }: ReconcilerKit) => defineReconciler({...});
//
// `.js`/`.mjs` files are imported as they are. `.ts` files are imported
// directly where the runtime can (tests, newer Node), and otherwise compiled
// with the project's TypeScript compiler into the run directory first.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kit } from './kit.js';
import type { Reconciler } from './reconciler.js';

export const BUILTIN_RECONCILERS_MODULE = new URL('./reconcilers/index.js', import.meta.url).href;

export interface LoadedReconcilers {
  reconcilers: Reconciler[];
  /** Module URLs to import again in a worker, in order (later modules override earlier ones by name). */
  modules: string[];
  /** Which module each reconciler came from. */
  origin: Map<string, string>;
}

function isReconciler(value: unknown): value is Reconciler {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<Reconciler>;
  return typeof r.name === 'string' && typeof r.version === 'string' && typeof r.judge === 'function' && typeof r.keysOf === 'function';
}

/** The reconcilers a module exports, in export order. */
export function reconcilersOf(module: Record<string, unknown>): Reconciler[] {
  const found: Reconciler[] = [];
  const take = (value: unknown, factoryAllowed: boolean) => {
    if (isReconciler(value)) found.push(value);
    else if (Array.isArray(value)) value.forEach((v) => take(v, false));
    else if (typeof value === 'function' && factoryAllowed) take((value as (k: typeof kit) => unknown)(kit), false);
  };
  // Only the default export may be a factory: named function exports are helpers.
  if ('default' in module) take(module.default, true);
  for (const [name, value] of Object.entries(module)) if (name !== 'default') take(value, false);
  const seen = new Set<Reconciler>();
  return found.filter((r) => (seen.has(r) ? false : (seen.add(r), true)));
}

export async function importReconcilers(url: string): Promise<Reconciler[]> {
  const module = (await import(url)) as Record<string, unknown>;
  return reconcilersOf(module);
}

/** Merges module after module; a later reconciler replaces an earlier one of the same name. */
export async function loadReconcilerModules(urls: readonly string[]): Promise<LoadedReconcilers> {
  const byName = new Map<string, Reconciler>();
  const origin = new Map<string, string>();
  for (const url of urls) {
    for (const reconciler of await importReconcilers(url)) {
      byName.set(reconciler.name, reconciler);
      origin.set(reconciler.name, url);
    }
  }
  return { reconcilers: [...byName.values()], modules: [...urls], origin };
}

export interface LoadOptions {
  /** The shipped trades, bookings and positions reconcilers (default true). */
  builtin?: boolean;
  /** Directories of reconciler modules. */
  dirs?: readonly string[];
  /** Extra module URLs or paths. */
  modules?: readonly string[];
  /** Where `.ts` modules are compiled when the runtime cannot import them. */
  buildDir?: string;
  /** Only these reconcilers (by name). */
  only?: readonly string[];
}

export async function loadReconcilers(options: LoadOptions = {}): Promise<LoadedReconcilers> {
  const urls: string[] = [];
  if (options.builtin ?? true) urls.push(BUILTIN_RECONCILERS_MODULE);
  for (const dir of options.dirs ?? []) urls.push(...(await moduleUrlsIn(resolve(dir), options.buildDir)));
  for (const m of options.modules ?? []) urls.push(/^[a-z]+:/.test(m) ? m : pathToFileURL(resolve(m)).href);
  const loaded = await loadReconcilerModules(urls);
  if (options.only && options.only.length > 0) {
    const wanted = new Set(options.only);
    const unknown = options.only.filter((n) => !loaded.reconcilers.some((r) => r.name === n));
    if (unknown.length > 0) throw new Error(`no reconciler named ${unknown.join(', ')}`);
    loaded.reconcilers = loaded.reconcilers.filter((r) => wanted.has(r.name));
  }
  if (loaded.reconcilers.length === 0) throw new Error('no reconcilers to run');
  return loaded;
}

const MODULE_FILE = /\.(m?js|ts)$/;
const NOT_A_MODULE = /(\.d\.ts|\.test\.ts|\.test\.m?js)$/;

async function moduleUrlsIn(dir: string, buildDir: string | undefined): Promise<string[]> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`reconcilers: ${dir} is not a directory`);
  const files = readdirSync(dir)
    .filter((f) => MODULE_FILE.test(f) && !NOT_A_MODULE.test(f))
    .sort();
  const js = files.filter((f) => !f.endsWith('.ts'));
  const ts = files.filter((f) => f.endsWith('.ts') && !js.includes(f.replace(/\.ts$/, '.js')));
  const urls = js.map((f) => pathToFileURL(join(dir, f)).href);
  if (ts.length === 0) return urls;
  if (await canImportTypeScript(join(dir, ts[0]!))) return [...urls, ...ts.map((f) => pathToFileURL(join(dir, f)).href)];
  const out = compileTypeScript(dir, ts, buildDir ?? join(dir, '.kepler-build'));
  return [...urls, ...ts.map((f) => pathToFileURL(join(out, f.replace(/\.ts$/, '.js'))).href)];
}

async function canImportTypeScript(file: string): Promise<boolean> {
  try {
    await import(pathToFileURL(file).href);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION') return false;
    throw error;
  }
}

/** The project's own compiler, found the way Node finds any dependency; null when it is not installed (a production install). */
function typeScriptCompiler(): string | null {
  try {
    const manifest = createRequire(import.meta.url).resolve('typescript/package.json');
    const tsc = join(dirname(manifest), 'bin', 'tsc');
    return existsSync(tsc) ? tsc : null;
  } catch {
    return null;
  }
}

/** Type-strips the modules with the project's compiler into a directory keyed by their content. */
function compileTypeScript(dir: string, files: readonly string[], buildDir: string): string {
  const hash = createHash('sha1');
  for (const f of files) hash.update(f).update(readFileSync(join(dir, f)));
  const out = join(buildDir, hash.digest('hex').slice(0, 16));
  if (files.every((f) => existsSync(join(out, f.replace(/\.ts$/, '.js'))))) return out;
  mkdirSync(out, { recursive: true });
  const tsc = typeScriptCompiler();
  if (!tsc) throw new Error(`cannot compile ${dir}/*.ts: the TypeScript compiler is not installed; compile the reconcilers to .js first`);
  const result = spawnSync(
    process.execPath,
    [tsc, '--ignoreConfig', '--noCheck', '--module', 'ES2022', '--moduleResolution', 'bundler', '--target', 'ES2022', '--skipLibCheck', '--outDir', out, ...files.map((f) => join(dir, f))],
    { encoding: 'utf8' },
  );
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  const missing = files.filter((f) => !existsSync(join(out, f.replace(/\.ts$/, '.js'))));
  if (missing.length > 0) throw new Error(`cannot compile ${missing.join(', ')}: ${result.stdout}${result.stderr}`);
  return out;
}
