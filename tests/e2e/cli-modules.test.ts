// What the CLI loads to run a command: the regression engine (every store adapter and the HTTP
// stack with it) only for the regress commands, so that `kepler ingest` and the rest do not pay
// for it at start-up (about 0.15 s a run on the build machine).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/kepler.js';

const dir = mkdtempSync(join(tmpdir(), 'kepler-cli-modules-'));
const loaded = join(dir, 'loaded.txt');
// A module-loading hook (Node's module.register) that writes down every module the process loads.
writeFileSync(
  join(dir, 'hooks.mjs'),
  `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(loaded)}, url + '\\n');
  return next(url, context);
}
`,
);
writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);

async function modulesOf(args: string[]): Promise<string[]> {
  writeFileSync(loaded, '');
  const run = await runCli(args, { env: { NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}` } });
  expect(run.code, run.stderr).toBe(0);
  return readFileSync(loaded, 'utf8').split('\n').filter(Boolean);
}

const dist = pathToFileURL(join(REPO_ROOT, 'dist')).href;
const engine = (urls: string[]) => urls.filter((url) => url.startsWith(`${dist}/regression/`) || url.startsWith(`${dist}/query-api/`) || url.includes('/node_modules/fastify/'));

describe('the CLI loads a command’s own modules', () => {
  it('ingest and --version load neither the regression engine nor the HTTP stack', async () => {
    const feed = join(REPO_ROOT, 'app', 'sample-feed', 'ALLOC_20261127_0001.cx1');
    const ingest = await modulesOf(['ingest', '--data-dir', join(dir, 'data'), feed]);
    expect(ingest.some((url) => url.startsWith(`${dist}/ingestion/`))).toBe(true);
    expect(engine(ingest)).toEqual([]);
    expect(engine(await modulesOf(['--version']))).toEqual([]);
  });

  it('--version and ingest load none of the processors, slots or messaging (the configuration reads its partition without them)', async () => {
    const feed = join(REPO_ROOT, 'app', 'sample-feed', 'ALLOC_20261127_0001.cx1');
    const others = (urls: string[]) => urls.filter((url) => ['processors', 'slots', 'messaging'].some((folder) => url.startsWith(`${dist}/${folder}/`)) && !url.endsWith('/processors/partition.js'));
    expect(others(await modulesOf(['--version']))).toEqual([]);
    expect(others(await modulesOf(['ingest', '--data-dir', join(dir, 'data'), feed]))).toEqual([]);
  });

  it('regress-accept loads the engine when it runs', async () => {
    const urls = await modulesOf(['regress-accept', '--signature', 'trades | docs.trades.price | CHANGED | exact', '--by', 'alice', '--reason', 'test', '--known', join(dir, 'known.json')]);
    expect(urls).toContain(`${dist}/regression/index.js`);
  });
});
