// `kepler pipeline init`: a new pipeline repository with a nine-environment
// pipeline, base profiles, the schemas and a signing key.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Actor } from '../eventstore/index.js';
import { BRANCH, Git } from './git.js';
import { jsonSchemaFiles } from './json-schemas.js';
import { defaultBaseProfile, defaultPatches, defaultPipeline } from './pipeline.js';
import { renderAll } from './profiles.js';
import { generateSigningKey, publicKeyOf } from './signing.js';

export const DEFAULT_KEY_FILE = join('.kepler', 'signing-key.pem');

export interface InitOptions {
  dir: string;
  registry: string | null;
  /** A git URL to push the new repository to (an empty bare repository). */
  remote: string | null;
  /** An Ed25519 private key (PEM file) to trust; a new one is made in .kepler/ when absent. */
  keyFile: string | null;
  actor: Actor;
}

export async function initPipeline(options: InitOptions): Promise<{ dir: string; commit: string; keyFile: string; keyid: string; environments: string[] }> {
  const dir = resolve(options.dir);
  if (existsSync(dir) && readdirSync(dir).filter((f) => f !== '.git').length > 0) throw new Error(`${dir} is not empty: a pipeline repository starts in an empty directory`);
  mkdirSync(dir, { recursive: true });
  const git = new Git(dir);
  if (!(await git.isRepository())) await git.run(['init', '--quiet', `--initial-branch=${BRANCH}`]);

  let keyFile: string;
  let key: { publicKeyPem: string; keyid: string };
  if (options.keyFile) {
    keyFile = resolve(options.keyFile);
    key = publicKeyOf(readFileSync(keyFile, 'utf8'));
  } else {
    const generated = generateSigningKey();
    keyFile = join(dir, DEFAULT_KEY_FILE);
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, generated.privateKeyPem, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    key = generated;
  }

  const pipeline = defaultPipeline({ registry: options.registry, trustedKey: { keyid: key.keyid, publicKey: key.publicKeyPem, owner: options.actor.subject } });
  const files: Record<string, string> = {
    'pipeline.json': `${JSON.stringify(pipeline, null, 2)}\n`,
    'profiles/base.json': `${JSON.stringify(defaultBaseProfile(), null, 2)}\n`,
    ...Object.fromEntries(Object.entries(defaultPatches()).map(([env, patch]) => [`profiles/${env}.json`, `${JSON.stringify(patch, null, 2)}\n`])),
    ...Object.fromEntries(Object.entries(jsonSchemaFiles()).map(([name, text]) => [`schemas/${name}`, text])),
    '.gitignore': '# Local to each clone: the signing key, artifacts kept without a registry, scratch work, the local event store.\n.kepler/\n',
    'README.md': README,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  // The defaults must render: a broken default would fail every cut.
  const environments = pipeline.phases.flatMap((p) => p.environments.map((e) => e.name));
  renderAll({ base: defaultBaseProfile(), patches: new Map(Object.entries(defaultPatches())) });
  const commit = await git.commit('pipeline init: nine environments in five phases, base profiles, schemas', ['.'], options.actor);
  if (options.remote) {
    await git.run(['remote', 'add', 'origin', options.remote]);
    const pushed = await git.push([]);
    if (pushed !== 'pushed') throw new Error(`could not push to ${options.remote}: it is not empty`);
    await git.run(['branch', '--quiet', `--set-upstream-to=origin/${BRANCH}`], { allowFailure: true });
  }
  return { dir, commit, keyFile, keyid: key.keyid, environments };
}

const README = `# Kepler release pipeline

The GitOps source of truth for releasing Kepler, written by \`kepler pipeline init\`.

- \`pipeline.json\`: the environments in phases and the gates of each; the keys whose signatures are trusted.
- \`profiles/base.json\` and \`profiles/ENV.json\`: the base deployment profile and each environment's RFC 7396 merge patch.
- \`candidates/ID/\`: each release candidate's manifest, its DSSE signature and the profiles it froze. Never edited.
- \`environments/ENV.json\`: what each environment's slots should run, and which slot is live. Changed only by promotions.
- \`schemas/\`: JSON Schemas of all of these.

Every promotion is one commit and a tag \`promote/ENV/ID\`. See "Releasing Kepler" in Kepler's README.
`;
