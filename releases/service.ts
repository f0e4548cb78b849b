// Releasing Kepler: cutting candidates, promoting them through the pipeline,
// rolling back. The decisions are the aggregates' and the gates'; this module
// does the I/O around them in the order that keeps git, the registry and the
// event store telling one story:
//
//   sync with the remote → evaluate the gates → record the request and gates →
//   commit the desired state and tag it → push (atomically; on losing a race:
//   sync and start again, gates included) → record the commit → move dist-tags.
//
// A crash after the push and before the record is healed by the next command,
// which finds the promotion commit in git and records it (reconcile).
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Actor, EventStore } from '../eventstore/index.js';
import type { EventStoreConfig } from '../stores/index.js';
import { extractTarball, inspectPackage, packStaged, runInPackage, stagePackage } from './artifact.js';
import { nextCalVer, type CutKind } from './calver.js';
import { buildCandidate, diffCandidates, refOf, type CandidateDiff } from './candidates.js';
import { canonicalJson, sha256Digest, sha512Integrity } from './canonical.js';
import { evaluateGates, overallVerdict, type GateContext, type ProbeAnswer, type Probes } from './gates.js';
import { Git } from './git.js';
import { environmentStateOf, Journal, promotionOf, RefusedError, type History, type LogEntry } from './journal.js';
import { placeOf, environmentsOf } from './pipeline.js';
import type { GateResult, PromotionKind, PromotionState, Slot, Verdict } from './promotion.js';
import { statusOf } from './promotion.js';
import { NpmRegistry, RegistryError, type RegistryClient } from './registry.js';
import { PipelineRepository, type StoredCandidate } from './repository.js';
import type { CandidateRef, DesiredState, GateConfig, Pipeline, ReleaseCandidate } from './schemas.js';
import { publicKeyOf, signPayload } from './signing.js';

/** Runs `kepler regress` for the regression gate; the report lands in reportDir. */
export type RegressionRunner = (spec: {
  prod: string;
  uat: string;
  reportDir: string;
  failOn: 'new' | 'any';
  known: string | null;
  reconcilers: string | null;
}) => Promise<{ exitCode: number; output: string }>;

export interface ReleaseServiceOptions {
  repo: PipelineRepository;
  store: EventStore;
  actor: Actor;
  clock?: () => Date;
  env?: NodeJS.ProcessEnv;
  registry?: (url: string) => RegistryClient;
  regression?: RegressionRunner;
  /** The event store a Kepler config file describes (the replay gate's source). */
  sourceStore?: (configFile: string) => EventStoreConfig;
  /** node_modules of an installation of Kepler's dependencies, for loading a packed candidate's code. */
  nodeModules: string;
  /** Seams for tests that stage a race or a crash around the push. */
  hooks?: { beforePush?: (what: string) => Promise<void>; afterPush?: (what: string) => Promise<void> };
  warn?: (line: string) => void;
}

export type PromotionStatus = 'applied' | 'unchanged' | 'refused' | 'pending' | 'planned';

export interface PromotionOutcome {
  status: PromotionStatus;
  kind: PromotionKind;
  environment: string;
  candidate: CandidateRef;
  verdict: Verdict;
  gates: GateResult[];
  slot: Slot | null;
  live: Slot | null;
  commit: string | null;
  tag: string | null;
  /** Rounds it took: more than one when it lost a push race and evaluated its gates again. */
  rounds: number;
  message: string;
  warnings: string[];
}

export interface VerifyCheck {
  check: string;
  ok: boolean;
  detail: string;
}

const MAX_ROUNDS = 5;
const CUT_TAG = 'cut';

export class ReleaseService {
  private readonly journal: Journal;
  private readonly now: () => Date;
  private readonly warnings: string[] = [];
  private readonly packages = new Map<string, Promise<string>>();

  constructor(private readonly options: ReleaseServiceOptions) {
    this.journal = new Journal(options.store, options.actor);
    this.now = options.clock ?? (() => new Date());
  }

  get repo(): PipelineRepository {
    return this.options.repo;
  }

  private warn(line: string): void {
    this.warnings.push(line);
    this.options.warn?.(line);
  }

  private registryFor(url: string): RegistryClient {
    return this.options.registry ? this.options.registry(url) : new NpmRegistry(url, this.options.env ?? process.env);
  }

  // ── Cutting ─────────────────────────────────────────────────────────────

  /**
   * Cuts a candidate: from the source's code (a new artifact), or — with
   * `from` — a configuration-only child of an existing candidate, which keeps
   * its parent's artifact and takes today's profiles.
   */
  async cut(request: {
    source?: string;
    registry?: string | null;
    kind?: CutKind;
    from?: string;
    reason?: string | null;
    allowDirty?: boolean;
    signingKey: string;
  }): Promise<{ id: string; digest: string; candidate: ReleaseCandidate }> {
    const { repo } = this.options;
    const signer = publicKeyOf(request.signingKey);
    for (let round = 1; ; round++) {
      await this.syncClean();
      const pipeline = repo.pipeline();
      if (!pipeline.trustedKeys.some((k) => k.keyid === signer.keyid)) {
        throw new Error(`the signing key ${signer.keyid.slice(0, 12)} is not among the pipeline's trusted keys; add its public key to pipeline.json first`);
      }
      const profiles = repo.renderProfiles(pipeline);
      const ids = repo.candidateIds();
      const at = this.now();
      const id = nextCalVer(ids, at, request.kind ?? 'release');
      const previous = ids.length > 0 ? repo.readCandidate(ids.at(-1)!).manifest : null;

      let facts: Pick<ReleaseCandidate, 'source' | 'artifact'> & { code: { eventSchemaVersion: number; projections: Array<{ name: string; version: number; codeDigest: string }> } };
      let parent: CandidateRef | null = null;
      let reason: string | null = request.reason ?? null;
      if (request.from) {
        if (!reason) throw new Error('a configuration-only candidate needs a reason (--reason)');
        const base = repo.readCandidate(request.from);
        parent = base.ref;
        facts = { source: base.manifest.source, artifact: base.manifest.artifact, code: { eventSchemaVersion: base.manifest.eventSchemaVersion, projections: base.manifest.projections } };
        if (Object.entries(base.manifest.profiles).every(([env, digest]) => profiles.get(env)?.digest === digest) && profiles.size === Object.keys(base.manifest.profiles).length) {
          throw new Error(`the profiles have not changed since ${base.manifest.id}: a child candidate would be the same configuration`);
        }
      } else {
        facts = await this.packSource(request.source ?? process.cwd(), id, request.registry === undefined ? pipeline.registry : request.registry, pipeline, request.allowDirty ?? false);
      }
      const manifest = buildCandidate({
        id,
        at,
        actor: this.options.actor,
        source: facts.source,
        artifact: facts.artifact,
        code: facts.code,
        profiles: Object.fromEntries([...profiles].map(([env, r]) => [env, r.digest])),
        previous,
        parent,
        reason,
      });
      const envelope = signPayload(canonicalJson(manifest), request.signingKey);
      const written = repo.writeCandidate(manifest, envelope, profiles);
      const ref = refOf(manifest);
      await repo.git.commit(
        `cut ${id}${parent ? ` from ${parent.id} (configuration only)` : ''}\n\n${reason ?? `artifact ${manifest.artifact.name}@${manifest.artifact.version}`}\n\nKepler-Action: cut\nKepler-Candidate: ${id}\nKepler-Digest: ${ref.digest}\nKepler-Actor: ${this.options.actor.subject}`,
        written,
        this.options.actor,
      );
      await this.options.hooks?.beforePush?.(`cut ${id}`);
      const pushed = await repo.git.push([]);
      if (pushed === 'rejected') {
        await repo.git.dropLastCommit();
        // Nothing was published for a child or without a registry: cut again under the next id.
        if ((request.from !== undefined || facts.artifact.registry === null) && round < MAX_ROUNDS) {
          this.warn(`another cut reached the pipeline first; cutting again`);
          continue;
        }
        throw new Error(`another cut reached the pipeline repository first and ${id} is already published: cut again`);
      }
      await this.journal.cut({ type: 'CandidateCut', candidate: ref, version: manifest.artifact.version, parent, reason, by: this.options.actor, at: at.toISOString() });
      return { id, digest: ref.digest, candidate: manifest };
    }
  }

  private async packSource(source: string, version: string, registry: string | null, pipeline: Pipeline, allowDirty: boolean) {
    const git = new Git(resolve(source));
    if (!(await git.isRepository())) throw new Error(`${source} is not a git checkout: a candidate records the commit it was cut from`);
    const dirty = await git.isDirty();
    if (dirty && !allowDirty) throw new Error(`${source} has uncommitted changes: commit them, or cut with --allow-dirty (the candidate records it)`);
    const commit = await git.head();
    const remote = await git.remoteUrl();
    const work = await mkdtemp(join(this.ensureLocal('work'), 'cut-'));
    try {
      const staged = await stagePackage(resolve(source), version, work);
      if (staged.name !== pipeline.package) throw new Error(`${source} is the package ${staged.name}, the pipeline releases ${pipeline.package}`);
      const nodeModules = existsSync(join(source, 'node_modules')) ? resolve(source, 'node_modules') : this.options.nodeModules;
      const code = await inspectPackage(staged.dir, nodeModules);
      const packed = await packStaged(staged.dir, join(work, 'out'));
      if (registry) {
        await this.registryFor(registry).publish(packed.file, CUT_TAG);
      } else {
        this.ensureLocal('artifacts');
        await copyFile(packed.file, this.localArtifact(packed.name, packed.version));
      }
      return {
        source: { commit, dirty, remote },
        artifact: { name: packed.name, version: packed.version, integrity: packed.integrity, size: packed.size, registry },
        code,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** A directory under the clone's .kepler/, made if missing. */
  private ensureLocal(...parts: string[]): string {
    const dir = this.options.repo.localPath(...parts);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private localArtifact(name: string, version: string): string {
    return this.options.repo.localPath('artifacts', `${name.replace('/', '-').replace('@', '')}-${version}.tgz`);
  }

  /**
   * Up to date with the remote, and nothing uncommitted: what a candidate
   * freezes and what a promotion changes is what git holds.
   */
  private async syncClean(): Promise<void> {
    const changed = await this.options.repo.git.changedFiles();
    if (changed.length > 0) throw new Error(`the pipeline repository has uncommitted changes (${changed.join(', ')}): commit them first`);
    await this.options.repo.git.syncToRemote();
  }

  // ── Verifying and comparing ─────────────────────────────────────────────

  /** Everything that makes a candidate trustworthy: its files, its signature, its cut record and its artifact's bytes. */
  async verify(idOrDigest: string, options: { offline?: boolean } = {}): Promise<{ ref: CandidateRef | null; ok: boolean; checks: VerifyCheck[] }> {
    const checks: VerifyCheck[] = [];
    let stored: StoredCandidate;
    try {
      stored = this.repo.readCandidate(idOrDigest);
      checks.push({ check: 'manifest', ok: true, detail: `${stored.ref.id} is ${stored.ref.digest}; the signed payload and the ${stored.profiles.size} frozen profiles match it` });
    } catch (error) {
      checks.push({ check: 'manifest', ok: false, detail: (error as Error).message });
      return { ref: null, ok: false, checks };
    }
    const signature = this.repo.verifySignature(stored);
    checks.push(signature.ok ? { check: 'signature', ok: true, detail: `Ed25519 by ${signature.owner} (${signature.keyid.slice(0, 12)})` } : { check: 'signature', ok: false, detail: signature.reason });
    const cut = (await this.journal.history()).cuts.get(stored.ref.id);
    if (cut) {
      checks.push(
        cut.candidate.digest === stored.ref.digest
          ? { check: 'cut record', ok: true, detail: `cut by ${cut.by.subject} at ${cut.at}` }
          : { check: 'cut record', ok: false, detail: `the event store recorded ${stored.ref.id} as ${cut.candidate.digest}: the repository's manifest was replaced` },
      );
    }
    if (!options.offline) checks.push(await this.checkArtifact(stored.manifest));
    return { ref: stored.ref, ok: checks.every((c) => c.ok), checks };
  }

  private async checkArtifact(manifest: ReleaseCandidate): Promise<VerifyCheck> {
    const { artifact } = manifest;
    const spec = `${artifact.name}@${artifact.version}`;
    if (artifact.registry === null) {
      const file = this.localArtifact(artifact.name, artifact.version);
      if (!existsSync(file)) return { check: 'artifact', ok: false, detail: `${spec} is not in ${file} (the candidate was cut without a registry, on another machine?)` };
      const integrity = sha512Integrity(readFileSync(file));
      return integrity === artifact.integrity
        ? { check: 'artifact', ok: true, detail: `${file} matches ${artifact.integrity.slice(0, 19)}…` }
        : { check: 'artifact', ok: false, detail: `${file} has integrity ${integrity}, the candidate says ${artifact.integrity}` };
    }
    const dir = await mkdtemp(join(this.ensureLocal('work'), 'verify-'));
    try {
      const got = await this.registryFor(artifact.registry).download(artifact.name, artifact.version, dir);
      if (got.recorded !== artifact.integrity) {
        return { check: 'artifact', ok: false, detail: `the registry records ${spec} as ${got.recorded ?? 'nothing'}, the candidate says ${artifact.integrity}` };
      }
      if (got.integrity !== artifact.integrity) return { check: 'artifact', ok: false, detail: `the registry serves bytes with integrity ${got.integrity} for ${spec}, the candidate says ${artifact.integrity}` };
      return { check: 'artifact', ok: true, detail: `${artifact.registry} serves ${spec} with integrity ${artifact.integrity.slice(0, 19)}…` };
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof RegistryError && /EINTEGRITY|integrity/i.test(message)) {
        return { check: 'artifact', ok: false, detail: `the registry serves bytes for ${spec} that do not match their integrity (tampered): ${message}` };
      }
      return { check: 'artifact', ok: false, detail: `cannot fetch ${spec}: ${message}` };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async diff(a: string, b: string, options: { source?: string } = {}): Promise<CandidateDiff> {
    const from = this.repo.readCandidate(a);
    const to = this.repo.readCandidate(b);
    let log: string[] | null = null;
    if (options.source && from.manifest.source.commit !== to.manifest.source.commit) {
      const git = new Git(resolve(options.source));
      const r = await git.run(['log', '--format=%h %s', `${from.manifest.source.commit}..${to.manifest.source.commit}`], { allowFailure: true });
      log = r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
    }
    const profiles = (c: StoredCandidate) => new Map([...c.profiles].map(([env, r]) => [env, r.profile]));
    return diffCandidates(from.manifest, to.manifest, profiles(from), profiles(to), log);
  }

  // ── Gates ───────────────────────────────────────────────────────────────

  private probes(stored: StoredCandidate): Probes {
    return {
      integrity: async () => {
        const signature = this.repo.verifySignature(stored);
        if (!signature.ok) return { verdict: 'fail', reason: `the signature does not verify: ${signature.reason}`, evidence: { signature: signature.reason } };
        const artifact = await this.checkArtifact(stored.manifest);
        const evidence = { keyid: signature.keyid, signer: signature.owner, integrity: stored.manifest.artifact.integrity, artifact: artifact.detail };
        return artifact.ok
          ? { verdict: 'pass', reason: `signed by ${signature.owner}; ${artifact.detail}`, evidence }
          : { verdict: 'fail', reason: artifact.detail, evidence };
      },
      regression: (ctx, config) => this.regressionProbe(ctx, config),
      replay: (ctx, config) => this.replayProbe(stored, config),
    };
  }

  private repoPath(path: string): string {
    return isAbsolute(path) ? path : join(this.repo.dir, path);
  }

  private async regressionProbe(ctx: GateContext, config: Extract<GateConfig, { gate: 'regression' }>): Promise<ProbeAnswer> {
    const run = this.options.regression;
    if (!run) return { verdict: 'fail', reason: 'no regression engine is wired into this process', evidence: null };
    const prod = this.repoPath(config.prod);
    const uat = this.repoPath(config.uat);
    for (const [side, file] of [['PROD', prod], ['UAT', uat]] as const) {
      if (!existsSync(file)) return { verdict: 'fail', reason: `${config[side === 'PROD' ? 'prod' : 'uat']} does not exist: describe ${side}'s stores there (a Kepler config file)`, evidence: null };
    }
    const reportDir = join(this.ensureLocal('runs', 'regression'), `${ctx.environment}-${ctx.candidate.id}-${this.now().getTime()}`);
    const outcome = await run({
      prod,
      uat,
      reportDir,
      failOn: config.failOn ?? 'new',
      known: config.known ? this.repoPath(config.known) : null,
      reconcilers: config.reconcilers ? this.repoPath(config.reconcilers) : null,
    });
    const reportFile = join(reportDir, 'report.json');
    if (outcome.exitCode === 2 || !existsSync(reportFile)) {
      return { verdict: 'fail', reason: `kepler regress could not run (exit ${outcome.exitCode}): ${outcome.output.trim().split('\n').at(-1) ?? ''}`, evidence: { exitCode: outcome.exitCode } };
    }
    const bytes = readFileSync(reportFile);
    const report = JSON.parse(bytes.toString('utf8')) as { totals: { pairs: number }; gate: { failed: boolean; reason: string }; signatureCounts: unknown };
    const evidence = { report: reportFile, reportDigest: sha256Digest(bytes), exitCode: outcome.exitCode, pairs: report.totals.pairs, gate: report.gate, signatures: report.signatureCounts };
    const answer = (verdict: Verdict, reason: string): ProbeAnswer => ({ verdict, reason, evidence, evidenceDigest: evidence.reportDigest });
    if (outcome.exitCode === 1 || report.gate.failed) return answer('fail', `kepler regress PROD vs UAT --fail-on ${config.failOn ?? 'new'}: ${report.gate.reason}`);
    if (report.totals.pairs === 0) return answer('fail', 'kepler regress compared no pairs: PROD and UAT hold nothing to compare, which proves nothing');
    return answer('pass', `kepler regress PROD vs UAT --fail-on ${config.failOn ?? 'new'}: ${report.gate.reason} over ${report.totals.pairs} pairs`);
  }

  private async replayProbe(stored: StoredCandidate, config: Extract<GateConfig, { gate: 'replay' }>): Promise<ProbeAnswer> {
    if (!this.options.sourceStore) return { verdict: 'fail', reason: 'no way to read a Kepler config file is wired into this process', evidence: null };
    const sourceFile = this.repoPath(config.source);
    if (!existsSync(sourceFile)) return { verdict: 'fail', reason: `${config.source} does not exist: describe the source environment's stores there`, evidence: null };
    const packageDir = await this.candidatePackage(stored.manifest);
    const scratch = await mkdtemp(join(this.ensureLocal('work'), 'replay-'));
    try {
      return await runInPackage<ProbeAnswer>(packageDir, this.options.nodeModules, ['replay', JSON.stringify(this.options.sourceStore(sourceFile)), String(config.sample ?? 10_000), scratch]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** The candidate's package, unpacked from its artifact's bytes (once per process). */
  private candidatePackage(manifest: ReleaseCandidate): Promise<string> {
    const key = manifest.artifact.integrity;
    let dir = this.packages.get(key);
    if (!dir) {
      dir = (async () => {
        const { artifact } = manifest;
        const work = await mkdtemp(join(this.ensureLocal('work'), `package-${artifact.version}-`));
        let tarball: string;
        if (artifact.registry) {
          const got = await this.registryFor(artifact.registry).download(artifact.name, artifact.version, work);
          if (got.integrity !== artifact.integrity) throw new Error(`the registry's ${artifact.name}@${artifact.version} does not match the candidate's integrity`);
          tarball = got.file;
        } else tarball = this.localArtifact(artifact.name, artifact.version);
        return extractTarball(tarball, work);
      })();
      this.packages.set(key, dir);
    }
    return dir;
  }

  private async context(stored: StoredCandidate, environment: string, kind: PromotionKind, reason: string | null, history: History): Promise<GateContext> {
    const pipeline = this.repo.pipeline();
    return { pipeline, environment, definition: placeOf(pipeline, environment).definition, candidate: stored.manifest, ref: stored.ref, kind, reason, history, now: this.now() };
  }

  /** The gates as they stand, recording nothing. */
  async gateCheck(idOrDigest: string, environment: string): Promise<{ verdict: Verdict; gates: GateResult[]; candidate: CandidateRef }> {
    await this.repo.git.syncToRemote();
    const stored = this.repo.readCandidate(idOrDigest);
    const history = await this.journal.history();
    const ctx = await this.context(stored, environment, 'promotion', null, history);
    const gates = await evaluateGates(ctx, this.probes(stored));
    return { verdict: overallVerdict(gates), gates, candidate: stored.ref };
  }

  // ── Promoting ───────────────────────────────────────────────────────────

  async promote(idOrDigest: string, environment: string, options: { plan?: boolean; hotfix?: boolean; reason?: string | null } = {}): Promise<PromotionOutcome> {
    if (options.hotfix && !options.reason) throw new Error('a hotfix skips phases and needs a reason (--reason)');
    return this.transition({ idOrDigest, environment, kind: options.hotfix ? 'hotfix' : 'promotion', reason: options.reason ?? null, plan: options.plan ?? false });
  }

  /** A new promotion of an older candidate that ran in the environment before; history is never rewritten. */
  rollback(environment: string, toIdOrDigest: string, options: { reason?: string | null; plan?: boolean } = {}): Promise<PromotionOutcome> {
    return this.transition({ idOrDigest: toIdOrDigest, environment, kind: 'rollback', reason: options.reason ?? null, plan: options.plan ?? false });
  }

  private async transition(request: { idOrDigest: string; environment: string; kind: PromotionKind; reason: string | null; plan: boolean }): Promise<PromotionOutcome> {
    const { repo } = this.options;
    const { environment, kind } = request;
    const warnings: string[] = [];
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      await this.syncClean();
      await this.reconcile();
      const pipeline = repo.pipeline();
      placeOf(pipeline, environment);
      const stored = repo.readCandidate(request.idOrDigest);
      const ref = stored.ref;
      const profile = stored.profiles.get(environment);
      if (!profile) throw new Error(`${ref.id} froze no profile for ${environment} (cut before it existed): cut a configuration-only child candidate`);
      const desired = repo.desired(environment);
      const history = await this.journal.history();
      const liveContent = desired ? desired.slots[desired.live] : undefined;
      const base = { kind, environment, candidate: ref, rounds: round, warnings };

      if (kind === 'rollback') {
        if (!liveContent) throw new Error(`${environment} runs nothing yet: there is nothing to roll back`);
        if (liveContent.candidate.digest === ref.digest) throw new Error(`${environment} already runs ${ref.id}`);
        if (promotionOf(history, environment, ref.id).appliedCount === 0) throw new Error(`${ref.id} never ran in ${environment}: promote it instead of rolling back to it`);
      } else {
        const inSlot = desired && (Object.entries(desired.slots) as Array<[Slot, { candidate: CandidateRef }]>).find(([, c]) => c.candidate.digest === ref.digest);
        const state = promotionOf(history, environment, ref.id);
        if (inSlot && state.applied && !state.rolledBack && !state.replaced) {
          const live = desired!.live === inSlot[0];
          return { ...base, status: 'unchanged', verdict: 'pass', gates: [], slot: inSlot[0], live: desired!.live, commit: state.applied.commit, tag: state.applied.tag, message: `${environment} already has ${ref.id} in slot ${inSlot[0]}${live ? ' (live)' : ' (awaiting cut-over)'}` };
        }
      }

      const { slot, next } = nextDesired(desired, environment, profile.profile.slots as Slot[], kind, {
        candidate: ref,
        version: stored.manifest.artifact.version,
        profileDigest: profile.digest,
        promotion: '',
      });
      const ctx = await this.context(stored, environment, kind, request.reason, history);
      const gates = await evaluateGates(ctx, this.probes(stored));
      const verdict = overallVerdict(gates);
      const blocking = gates.filter((g) => g.verdict !== 'pass');
      const blockMessage = blocking.map((g) => `gate ${g.gate} ${g.verdict === 'fail' ? 'failed' : 'is pending'}: ${g.reason}`).join('\n');
      if (request.plan) {
        const message = verdict === 'pass' ? `would ${kind === 'rollback' ? 'roll back' : 'promote'} ${environment} to ${ref.id} in slot ${slot}${next.live === slot ? ' (live at once)' : ' (cut over later)'}` : blockMessage;
        return { ...base, status: 'planned', verdict, gates, slot, live: next.live, commit: null, tag: null, message };
      }

      const requested = await this.journal.promotion({
        type: 'Request',
        environment,
        candidate: ref,
        at: this.now().toISOString(),
        kind,
        slot,
        reason: request.reason,
        replacing: liveContent?.candidate ?? null,
        actor: this.options.actor,
      });
      const attempt = requested.state.attempt;
      await this.journal.promotion({ type: 'RecordGates', environment, candidate: ref, at: this.now().toISOString(), attempt, results: gates });
      await this.markSoaked(gates, stored, history);
      if (verdict !== 'pass') {
        return { ...base, status: verdict === 'fail' ? 'refused' : 'pending', verdict, gates, slot, live: desired?.live ?? null, commit: null, tag: null, message: blockMessage };
      }

      const state = promotionOf(history, environment, ref.id);
      const tag = promotionTag(environment, ref.id, state.appliedCount + 1);
      next.slots[slot] = { ...next.slots[slot]!, promotion: tag };
      const displacedRef = desired?.slots[slot]?.candidate;
      const displaced = displacedRef && displacedRef.digest !== ref.digest ? displacedRef : null;
      const replacing = kind === 'rollback' ? liveContent!.candidate : null;
      const file = repo.writeDesired(next);
      const verb = kind === 'rollback' ? 'roll back' : kind === 'hotfix' ? 'hotfix' : 'promote';
      const commit = await repo.git.commit(
        [
          `${verb} ${environment} to ${ref.id} (slot ${slot}${next.live === slot ? ', live' : ''})`,
          '',
          ...(request.reason ? [request.reason, ''] : []),
          ...gates.map((g) => `${g.gate}: ${g.verdict}${g.waived ? ` (waived: ${g.waived})` : ''} — ${g.reason}`),
          '',
          `Kepler-Action: ${kind}`,
          `Kepler-Environment: ${environment}`,
          `Kepler-Candidate: ${ref.id}`,
          `Kepler-Digest: ${ref.digest}`,
          `Kepler-Attempt: ${attempt}`,
          `Kepler-Slot: ${slot}`,
          `Kepler-Live: ${next.live}`,
          `Kepler-Tag: ${tag}`,
          ...(replacing ? [`Kepler-Rolls-Back: ${replacing.id} ${replacing.digest}`] : []),
          ...(displaced ? [`Kepler-Displaces: ${displaced.id} ${displaced.digest}`] : []),
          `Kepler-Actor: ${this.options.actor.subject}`,
        ].join('\n'),
        [file],
        this.options.actor,
      );
      await repo.git.tag(tag, commit, `${verb} ${environment} to ${ref.id} (${ref.digest})`, this.options.actor);
      await this.options.hooks?.beforePush?.(`${verb} ${environment} ${ref.id}`);
      const pushed = await repo.git.push([tag]);
      if (pushed === 'rejected') {
        const line = `${environment}: another change reached the pipeline repository first; rebasing and evaluating the gates again`;
        warnings.push(line);
        this.warn(line);
        await repo.git.deleteTag(tag);
        await repo.git.dropLastCommit();
        continue;
      }
      await this.options.hooks?.afterPush?.(`${verb} ${environment} ${ref.id}`);
      await this.recordApplied({ environment, ref, attempt, commit, tag, slot, live: next.live, previousLive: desired?.live ?? null, replacing, displaced, reason: request.reason });
      await this.moveDistTags(pipeline, stored.manifest, environment, warnings);
      return {
        ...base,
        status: 'applied',
        verdict,
        gates,
        slot,
        live: next.live,
        commit,
        tag,
        message: `${environment} now has ${ref.id} in slot ${slot}${next.live === slot ? ' (live)' : `; ${next.live} stays live until the cut-over`} — commit ${commit.slice(0, 12)}, tag ${tag}`,
      };
    }
    throw new Error(`${environment}: the pipeline repository kept moving; gave up after ${MAX_ROUNDS} rounds`);
  }

  private async recordApplied(a: {
    environment: string;
    ref: CandidateRef;
    attempt: number;
    commit: string;
    tag: string;
    slot: Slot;
    live: Slot;
    previousLive: Slot | null;
    replacing: CandidateRef | null;
    /** The candidate that ran in the slot before. */
    displaced: CandidateRef | null;
    reason: string | null;
  }): Promise<void> {
    const at = this.now().toISOString();
    const on = { environment: a.environment, candidate: a.ref, at };
    await this.journal.promotion({ type: 'Apply', ...on, attempt: a.attempt, commit: a.commit, tag: a.tag, slot: a.slot });
    if (a.live === a.slot) await this.journal.promotion({ type: 'SwitchSlot', ...on, from: a.previousLive, to: a.slot, commit: a.commit });
    if (a.replacing) {
      try {
        await this.journal.promotion({ type: 'RollBack', environment: a.environment, candidate: a.replacing, at, to: a.ref, reason: a.reason ?? `rolled back to ${a.ref.id}` });
      } catch (error) {
        if (!(error instanceof RefusedError)) throw error;
      }
    }
    if (a.displaced) await this.journal.promotion({ type: 'Replace', environment: a.environment, candidate: a.displaced, at, by: a.ref, slot: a.slot });
  }

  /** Soak is measured, not declared: when a soak gate passes, the upstream promotions it measured are marked soaked. */
  private async markSoaked(gates: readonly GateResult[], stored: StoredCandidate, history: History): Promise<void> {
    const soak = gates.find((g) => g.gate === 'soak' && g.verdict === 'pass' && g.waived === null);
    const verified = (soak?.evidence as { since?: string } | null)?.since ? (gates.find((g) => g.gate === 'upstream')?.evidence as { verified?: Record<string, string> } | null)?.verified : undefined;
    for (const [env, at] of Object.entries(verified ?? {})) {
      if (promotionOf(history, env, stored.ref.id).soaked) continue;
      await this.journal.promotion({ type: 'MarkSoaked', environment: env, candidate: stored.ref, at: this.now().toISOString(), soakedMs: Math.max(0, this.now().getTime() - Date.parse(at)) });
    }
  }

  private async moveDistTags(pipeline: Pipeline, manifest: ReleaseCandidate, environment: string, warnings: string[]): Promise<void> {
    const { artifact } = manifest;
    if (!artifact.registry) return;
    const tags = [environment, ...(pipeline.latestFollows === environment ? ['latest'] : [])];
    for (const tag of tags) {
      try {
        await this.registryFor(artifact.registry).setDistTag(artifact.name, artifact.version, tag);
      } catch (error) {
        const line = `the dist-tag ${tag} did not move to ${artifact.version}: ${(error as Error).message} (the next promotion of ${environment} moves it)`;
        warnings.push(line);
        this.warn(line);
      }
    }
  }

  /**
   * Records what git holds and the event store does not: a promotion pushed by
   * a process that stopped before recording it. Idempotent.
   */
  async reconcile(): Promise<number> {
    const commits = (await this.repo.git.log(200)).reverse();
    let healed = 0;
    let history: History | null = null;
    /** Per environment, the candidate its newest promotion applied: where its dist-tag belongs. */
    const newest = new Map<string, CandidateRef>();
    const healedEnvironments = new Set<string>();
    for (const c of commits) {
      const t = trailers(c.body);
      const action = t.get('Kepler-Action');
      if (action !== 'promotion' && action !== 'hotfix' && action !== 'rollback' && action !== 'cut-over') continue;
      history ??= await this.journal.history();
      const environment = t.get('Kepler-Environment')!;
      const ref = { id: t.get('Kepler-Candidate')!, digest: t.get('Kepler-Digest')! };
      if (action !== 'cut-over') newest.set(environment, ref);
      const state = promotionOf(history, environment, ref.id);
      const slot = t.get('Kepler-Slot') as Slot;
      const live = t.get('Kepler-Live') as Slot;
      if (action === 'cut-over') {
        if (state.applied && state.live?.commit !== c.commit && state.live?.to !== slot) {
          await this.journal.promotion({ type: 'SwitchSlot', environment, candidate: ref, at: this.now().toISOString(), from: null, to: slot, commit: c.commit });
          healed++;
        }
        continue;
      }
      const attempt = Number(t.get('Kepler-Attempt'));
      if (state.applied?.commit === c.commit || state.attempt !== attempt || state.applied) continue;
      this.warn(`recording ${action} of ${ref.id} to ${environment} (commit ${c.commit.slice(0, 12)}), which reached git but not the event store`);
      const parseRef = (value: string | undefined): CandidateRef | null => {
        const [id, digest] = value?.split(' ') ?? [];
        return id && digest ? { id, digest } : null;
      };
      await this.recordApplied({
        environment,
        ref,
        attempt,
        commit: c.commit,
        tag: t.get('Kepler-Tag')!,
        slot,
        live,
        previousLive: null,
        replacing: parseRef(t.get('Kepler-Rolls-Back')),
        displaced: parseRef(t.get('Kepler-Displaces')),
        reason: state.reason,
      });
      healed++;
      healedEnvironments.add(environment);
      history = null;
    }
    // The process that stopped after its push never moved the dist-tag either.
    for (const environment of healedEnvironments) {
      await this.moveDistTags(this.repo.pipeline(), this.repo.readCandidate(newest.get(environment)!.id).manifest, environment, []);
    }
    return healed;
  }

  // ── After the apply: verification and the cut-over ──────────────────────

  async markVerified(idOrDigest: string, environment: string, evidence: string | null): Promise<PromotionState> {
    const stored = this.repo.readCandidate(idOrDigest);
    placeOf(this.repo.pipeline(), environment);
    const r = await this.journal.promotion({ type: 'Verify', environment, candidate: stored.ref, at: this.now().toISOString(), by: this.options.actor, evidence });
    return r.state;
  }

  /** Switches traffic to the slot the candidate was deployed into, once it is verified there. */
  async cutOver(idOrDigest: string, environment: string): Promise<{ from: Slot; to: Slot; commit: string; unchanged: boolean }> {
    const { repo } = this.options;
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      await repo.git.syncToRemote();
      const stored = repo.readCandidate(idOrDigest);
      const history = await this.journal.history();
      const state = promotionOf(history, environment, stored.ref.id);
      if (!state.applied || state.rolledBack || state.replaced) throw new RefusedError('NOT_APPLIED', `${stored.ref.id} is not applied to ${environment}`);
      if (!state.verified) throw new RefusedError('NOT_VERIFIED', `${stored.ref.id} is not verified in ${environment} (slot ${state.applied.slot}): verify it before the cut-over`);
      const desired = repo.desired(environment);
      const slot = state.applied.slot;
      if (!desired || desired.slots[slot]?.candidate.digest !== stored.ref.digest) throw new Error(`slot ${slot} of ${environment} no longer holds ${stored.ref.id}`);
      if (desired.live === slot) {
        const commit = state.live?.commit ?? state.applied.commit;
        if (!state.live) await this.journal.promotion({ type: 'SwitchSlot', environment, candidate: stored.ref, at: this.now().toISOString(), from: null, to: slot, commit });
        return { from: slot, to: slot, commit, unchanged: true };
      }
      const from = desired.live;
      const file = repo.writeDesired({ ...desired, live: slot });
      const commit = await repo.git.commit(
        `cut over ${environment} from ${from} to ${slot} (${stored.ref.id})\n\nKepler-Action: cut-over\nKepler-Environment: ${environment}\nKepler-Candidate: ${stored.ref.id}\nKepler-Digest: ${stored.ref.digest}\nKepler-Slot: ${slot}\nKepler-Live: ${slot}\nKepler-Actor: ${this.options.actor.subject}`,
        [file],
        this.options.actor,
      );
      await this.options.hooks?.beforePush?.(`cut over ${environment}`);
      if ((await repo.git.push([])) === 'rejected') {
        await repo.git.dropLastCommit();
        continue;
      }
      await this.journal.promotion({ type: 'SwitchSlot', environment, candidate: stored.ref, at: this.now().toISOString(), from, to: slot, commit });
      return { from, to: slot, commit, unchanged: false };
    }
    throw new Error(`${environment}: the pipeline repository kept moving; gave up after ${MAX_ROUNDS} rounds`);
  }

  // ── Operators' decisions ────────────────────────────────────────────────

  async approve(idOrDigest: string, environment: string, options: { overrides?: Array<'windows'>; reason?: string | null } = {}): Promise<{ recorded: boolean }> {
    await this.repo.git.syncToRemote();
    placeOf(this.repo.pipeline(), environment);
    const stored = this.repo.readCandidate(idOrDigest);
    const r = await this.journal.promotion({
      type: 'Approve',
      environment,
      candidate: stored.ref,
      at: this.now().toISOString(),
      approver: this.options.actor,
      cutBy: stored.manifest.createdBy,
      overrides: options.overrides ?? [],
      reason: options.reason ?? null,
    });
    return { recorded: r.events.length > 0 };
  }

  async freeze(environments: readonly string[], options: { until: Date | null; reason: string }): Promise<void> {
    const pipeline = this.repo.pipeline();
    for (const env of environments) placeOf(pipeline, env);
    for (const env of environments) {
      await this.journal.environment({ type: 'Freeze', environment: env, by: this.options.actor, at: this.now().toISOString(), until: options.until?.toISOString() ?? null, reason: options.reason });
    }
  }

  async unfreeze(environments: readonly string[], reason: string | null): Promise<void> {
    const pipeline = this.repo.pipeline();
    for (const env of environments) placeOf(pipeline, env);
    for (const env of environments) await this.journal.environment({ type: 'Unfreeze', environment: env, by: this.options.actor, at: this.now().toISOString(), reason });
  }

  /** Vetoes a candidate in one environment, or in every one. */
  async veto(idOrDigest: string, environment: string | null, reason: string, lift = false): Promise<string[]> {
    const pipeline = this.repo.pipeline();
    const stored = this.repo.readCandidate(idOrDigest);
    const envs = environment ? [placeOf(pipeline, environment).definition.name] : environmentsOf(pipeline).map((e) => e.definition.name);
    for (const env of envs) {
      const on = { environment: env, candidate: stored.ref, at: this.now().toISOString(), by: this.options.actor, reason };
      if (!lift) await this.journal.promotion({ type: 'Veto', ...on });
      else if (promotionOf(await this.journal.history(), env, stored.ref.id).veto) await this.journal.promotion({ type: 'LiftVeto', ...on });
    }
    return envs;
  }

  /** Pins an environment to a candidate (its live one when none is named): no other candidate may be promoted there. */
  async pin(environment: string, idOrDigest: string | null, reason: string): Promise<CandidateRef> {
    await this.repo.git.syncToRemote();
    placeOf(this.repo.pipeline(), environment);
    let ref: CandidateRef;
    if (idOrDigest) ref = this.repo.readCandidate(idOrDigest).ref;
    else {
      const desired = this.repo.desired(environment);
      const live = desired?.slots[desired.live];
      if (!live) throw new Error(`${environment} runs nothing yet: name the candidate to pin it to`);
      ref = live.candidate;
    }
    await this.journal.environment({ type: 'Pin', environment, by: this.options.actor, at: this.now().toISOString(), candidate: ref, reason });
    return ref;
  }

  async unpin(environment: string, reason: string | null): Promise<void> {
    placeOf(this.repo.pipeline(), environment);
    await this.journal.environment({ type: 'Unpin', environment, by: this.options.actor, at: this.now().toISOString(), reason });
  }

  // ── Status ──────────────────────────────────────────────────────────────

  async status(): Promise<PipelineStatus> {
    await this.repo.git.syncToRemote();
    await this.reconcile();
    const pipeline = this.repo.pipeline();
    const history = await this.journal.history();
    const now = this.now();
    const environments = environmentsOf(pipeline).map(({ definition, phaseName }) => {
      const name = definition.name;
      const desired = this.repo.desired(name);
      const slots = Object.fromEntries(
        (Object.entries(desired?.slots ?? {}) as Array<[Slot, { candidate: CandidateRef; version: string; profileDigest: string; promotion: string }]>).map(([slot, c]) => {
          const p = promotionOf(history, name, c.candidate.id);
          return [slot, { candidate: c.candidate.id, version: c.version, profileDigest: c.profileDigest, status: statusOf(p), appliedAt: p.applied?.at ?? null, tag: c.promotion }];
        }),
      );
      const liveContent = desired ? desired.slots[desired.live] : undefined;
      const livePromotion = liveContent ? promotionOf(history, name, liveContent.candidate.id) : null;
      const since = livePromotion?.live?.at ?? livePromotion?.applied?.at ?? null;
      const latest = [...history.log].reverse().find((e) => e.environment === name && e.type === 'PromotionRequested');
      const latestState = latest ? promotionOf(history, name, latest.candidate!) : null;
      const envState = environmentStateOf(history, name);
      const frozen = envState.freeze && (envState.freeze.until === null || Date.parse(envState.freeze.until) > now.getTime()) ? envState.freeze : null;
      return {
        environment: name,
        phase: phaseName,
        optional: definition.optional ?? false,
        gates: definition.gates.map((g) => g.gate),
        live: liveContent ? { slot: desired!.live, candidate: liveContent.candidate.id, version: liveContent.version, status: statusOf(livePromotion!), since, ageMs: since ? now.getTime() - Date.parse(since) : null } : null,
        slots,
        latestPromotion: latestState?.candidate
          ? {
              candidate: latestState.candidate.id,
              kind: latestState.kind,
              status: statusOf(latestState),
              attempt: latestState.attempt,
              requestedBy: latestState.requestedBy?.subject ?? null,
              requestedAt: latestState.requestedAt,
              gates: latestState.gates.map((g) => ({ gate: g.gate, verdict: g.verdict, reason: g.reason, waived: g.waived, evidenceDigest: g.evidenceDigest })),
            }
          : null,
        frozen: frozen ? { until: frozen.until, reason: frozen.reason, by: frozen.by.subject } : null,
        pinned: envState.pin ? { candidate: envState.pin.candidate.id, reason: envState.pin.reason, by: envState.pin.by.subject } : null,
      };
    });
    const candidates = this.repo.candidateIds().map((id) => {
      const c = this.repo.readCandidate(id);
      return { id, digest: c.ref.digest, version: c.manifest.artifact.version, createdAt: c.manifest.createdAt, createdBy: c.manifest.createdBy.subject, parent: c.manifest.parent?.id ?? null, reason: c.manifest.reason };
    });
    return { pipeline: pipeline.name, at: now.toISOString(), environments, candidates, history: history.log.slice(-100) };
  }
}

export interface PipelineStatus {
  pipeline: string;
  at: string;
  environments: Array<{
    environment: string;
    phase: string;
    optional: boolean;
    gates: string[];
    live: { slot: Slot; candidate: string; version: string; status: string; since: string | null; ageMs: number | null } | null;
    slots: Record<string, { candidate: string; version: string; profileDigest: string; status: string; appliedAt: string | null; tag: string }>;
    latestPromotion: {
      candidate: string;
      kind: PromotionKind | null;
      status: string;
      attempt: number;
      requestedBy: string | null;
      requestedAt: string | null;
      gates: Array<{ gate: string; verdict: Verdict; reason: string; waived: string | null; evidenceDigest: string | null }>;
    } | null;
    frozen: { until: string | null; reason: string; by: string } | null;
    pinned: { candidate: string; reason: string; by: string } | null;
  }>;
  candidates: Array<{ id: string; digest: string; version: string; createdAt: string; createdBy: string; parent: string | null; reason: string | null }>;
  history: LogEntry[];
}

/** promote/ENV/ID the first time ID goes to ENV; promote/ENV/ID+2 when it goes there again (after a rollback). */
export function promotionTag(environment: string, id: string, nth: number): string {
  return `promote/${environment}/${id}${nth > 1 ? `+${nth}` : ''}`;
}

/**
 * Where the candidate goes: the only slot, or the idle one of two. A rollback
 * goes live at once (it ran before); a promotion into the idle slot waits for
 * the cut-over, except the first one, with nothing live to cut over from.
 */
export function nextDesired(
  desired: DesiredState | null,
  environment: string,
  slots: readonly Slot[],
  kind: PromotionKind,
  content: DesiredState['slots']['blue'] & object,
): { slot: Slot; next: DesiredState } {
  if (!desired) {
    const slot = slots[0]!;
    return { slot, next: { schema: 'kepler.desired-state/v1', environment, slots: { [slot]: content }, live: slot } };
  }
  const idle: Slot = desired.live === 'blue' ? 'green' : 'blue';
  if (slots.length === 1 || !slots.includes(idle)) {
    const slot = slots.includes(desired.live) ? desired.live : slots[0]!;
    return { slot, next: { ...desired, slots: { [slot]: content }, live: slot } };
  }
  return { slot: idle, next: { ...desired, slots: { ...desired.slots, [idle]: content }, live: kind === 'rollback' ? idle : desired.live } };
}

function trailers(body: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of body.split('\n')) {
    const match = /^(Kepler-[A-Za-z-]+): (.+)$/.exec(line.trim());
    if (match) map.set(match[1]!, match[2]!);
  }
  return map;
}
