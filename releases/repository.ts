// The pipeline repository: the GitOps source of truth, laid out as
//
//   pipeline.json                        the pipeline: phases, environments, gates, trusted keys
//   profiles/base.json, profiles/ENV.json the base profile and each environment's merge patch
//   candidates/ID/manifest.json          each candidate, immutable...
//   candidates/ID/manifest.dsse.json     ...its signature...
//   candidates/ID/profiles/ENV.json      ...and the profiles it froze, rendered
//   environments/ENV.json                each environment's desired state: what each slot runs, which is live
//   schemas/*.schema.json                the JSON Schemas of all of it, for editors
//
// and .kepler/ (ignored by git) for what stays local: the signing key, the
// artifacts when there is no registry, scratch work.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson, digestOf } from './canonical.js';
import { compareCalVer, isCalVer } from './calver.js';
import { Git } from './git.js';
import { readPipeline, environmentsOf } from './pipeline.js';
import { readJson, readProfileSources, readRendered, renderAll, type Rendered } from './profiles.js';
import { DesiredState, ReleaseCandidate, SignatureEnvelope, type CandidateRef, type Pipeline } from './schemas.js';
import { verifyEnvelope, type SignatureCheck } from './signing.js';
import { validate } from './validate.js';

export interface StoredCandidate {
  manifest: ReleaseCandidate;
  ref: CandidateRef;
  envelope: SignatureEnvelope;
  /** The profiles the candidate froze, by environment. */
  profiles: Map<string, Rendered>;
}

export class CandidateNotFoundError extends Error {
  override readonly name = 'CandidateNotFoundError';
}

export class PipelineRepository {
  readonly git: Git;

  constructor(readonly dir: string) {
    this.git = new Git(dir);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Local, never committed. */
  localPath(...parts: string[]): string {
    return join(this.dir, '.kepler', ...parts);
  }

  pipeline(): Pipeline {
    const file = this.path('pipeline.json');
    if (!existsSync(file)) throw new Error(`${this.dir} is not a pipeline repository (no pipeline.json; create one with kepler pipeline init --repo DIR)`);
    return readPipeline(readJson(file), file);
  }

  environments(pipeline = this.pipeline()): string[] {
    return environmentsOf(pipeline).map((e) => e.definition.name);
  }

  renderProfiles(pipeline = this.pipeline()): Map<string, Rendered> {
    return renderAll(readProfileSources(this.path('profiles'), this.environments(pipeline)), join(this.dir, 'profiles'));
  }

  candidateIds(): string[] {
    const dir = this.path('candidates');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter(isCalVer)
      .sort((a, b) => compareCalVer(a, b));
  }

  /**
   * A stored candidate, checked for consistency: the manifest is valid, the
   * envelope signs exactly its canonical form, and each frozen profile still
   * has the digest the manifest records. (Whether the signature is by a
   * trusted key is verifySignature's job.)
   */
  readCandidate(idOrDigest: string): StoredCandidate {
    const id = this.resolve(idOrDigest);
    const dir = this.path('candidates', id);
    const manifest = validate(ReleaseCandidate, readJson(join(dir, 'manifest.json')), `candidates/${id}/manifest.json`);
    if (manifest.id !== id) throw new Error(`candidates/${id}/manifest.json is the manifest of ${manifest.id}`);
    const envelope = validate(SignatureEnvelope, readJson(join(dir, 'manifest.dsse.json')), `candidates/${id}/manifest.dsse.json`);
    const canonical = canonicalJson(manifest);
    if (Buffer.from(envelope.payload, 'base64').toString('utf8') !== canonical) {
      throw new Error(`candidates/${id}: the signed payload is not this manifest (the manifest was edited after it was signed)`);
    }
    const profiles = new Map<string, Rendered>();
    for (const [env, digest] of Object.entries(manifest.profiles)) {
      const file = join(dir, 'profiles', `${env}.json`);
      const rendered = readRendered(readJson(file), `candidates/${id}/profiles/${env}.json`);
      if (rendered.digest !== digest) throw new Error(`candidates/${id}/profiles/${env}.json has digest ${rendered.digest}, the manifest says ${digest}`);
      profiles.set(env, rendered);
    }
    return { manifest, ref: { id, digest: digestOf(manifest) }, envelope, profiles };
  }

  /** An id, or the digest of a candidate (sha256:... or a unique prefix of its hex). */
  resolve(idOrDigest: string): string {
    if (isCalVer(idOrDigest)) {
      if (!existsSync(this.path('candidates', idOrDigest, 'manifest.json'))) throw new CandidateNotFoundError(`no candidate ${idOrDigest} in ${this.dir}`);
      return idOrDigest;
    }
    const hex = idOrDigest.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{8,64}$/.test(hex)) throw new CandidateNotFoundError(`"${idOrDigest}" is neither a candidate id nor a digest`);
    const matches = this.candidateIds().filter((id) => digestOf(readJson(this.path('candidates', id, 'manifest.json'))).slice(7).startsWith(hex));
    if (matches.length !== 1) throw new CandidateNotFoundError(matches.length === 0 ? `no candidate has digest ${idOrDigest}` : `digest ${idOrDigest} is ambiguous (${matches.join(', ')})`);
    return matches[0]!;
  }

  verifySignature(candidate: StoredCandidate, pipeline = this.pipeline()): SignatureCheck {
    return verifyEnvelope(candidate.envelope, pipeline.trustedKeys);
  }

  /** Writes a new candidate's files; refuses to touch an existing one. Returns the paths written. */
  writeCandidate(manifest: ReleaseCandidate, envelope: SignatureEnvelope, profiles: ReadonlyMap<string, Rendered>): string[] {
    const dir = this.path('candidates', manifest.id);
    if (existsSync(dir)) throw new Error(`candidate ${manifest.id} already exists: candidates are never edited`);
    const files: Array<[string, string]> = [
      [join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`],
      [join(dir, 'manifest.dsse.json'), `${JSON.stringify(envelope, null, 2)}\n`],
      ...[...profiles].map(([env, r]): [string, string] => [join(dir, 'profiles', `${env}.json`), `${r.canonical}\n`]),
    ];
    for (const [file, text] of files) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    return [dir];
  }

  desired(environment: string): DesiredState | null {
    const file = this.path('environments', `${environment}.json`);
    if (!existsSync(file)) return null;
    return validate(DesiredState, readJson(file), `environments/${environment}.json`);
  }

  writeDesired(state: DesiredState): string {
    const file = this.path('environments', `${state.environment}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(validate(DesiredState, state, `environments/${state.environment}.json`), null, 2)}\n`);
    return file;
  }
}
