// Worker threads load compiled JavaScript, so what runs on one is tested from
// dist/ (npm test builds first), typed as the source module it was built from.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './kepler.js';

export async function compiled<Module>(sourcePath: string): Promise<Module> {
  const built = join(REPO_ROOT, 'dist', sourcePath.replace(/\.ts$/, '.js'));
  return (await import(pathToFileURL(built).href)) as Module;
}
