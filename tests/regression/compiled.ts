// Compiles what `kepler regress` needs (as `npm run build` would) into test-output/, so that tests
// can run it as users do: plain Node, worker threads, a .ts reconciler directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runNode } from '../support/kepler.js';

export const BUILD_DIR = join(REPO_ROOT, 'test-output', 'regression-build');

/** The regress commands wired into a program exactly as app/cli.ts wires them. */
const RUNNER = `import { Command } from 'commander';
import { regressCommands } from './out/app/commands/regress.js';
const program = new Command().name('kepler').showHelpAfterError();
for (const command of regressCommands()) program.addCommand(command);
await program.parseAsync(process.argv);
`;

export function compileRegression(): string {
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(
    join(BUILD_DIR, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { rootDir: '../..', outDir: 'out', noCheck: true, sourceMap: false },
      include: [],
      files: ['../../app/commands/regress.ts', '../../app/commands/regress-run.ts', '../../regression/worker.ts', '../../regression/index.ts', '../../regression/bench.ts'],
    }),
  );
  writeFileSync(join(BUILD_DIR, 'kepler-regress.mjs'), RUNNER);
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(BUILD_DIR, 'tsconfig.json')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc failed: ${result.stdout}${result.stderr}`);
  return join(BUILD_DIR, 'kepler-regress.mjs');
}

export function run(runner: string, args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(runner, args, { cwd: cwd ?? REPO_ROOT });
}
