// Evaluating a candidate's gates for an environment. The verdicts are
// gates.ts's; this answers the probes that need the world (the signature and
// the artifact's bytes, `kepler regress`, a replay of the candidate's own
// projections) and remembers each candidate's unpacked package for the process.
import { mkdtemp } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { extractTarball, runInPackage } from './artifact.js';
import { sha256Digest } from './canonical.js';
import type { ReleaseContext } from './context.js';
import { evaluateGates, overallVerdict, type GateContext, type ProbeAnswer, type Probes } from './gates.js';
import type { History } from './journal.js';
import { placeOf } from './pipeline.js';
import type { GateResult, PromotionKind, Verdict } from './promotion.js';
import type { StoredCandidate } from './repository.js';
import type { CandidateRef, GateConfig, ReleaseCandidate } from './schemas.js';
import { checkArtifact } from './verification.js';

export class Gating {
  private readonly packages = new Map<string, Promise<string>>();

  constructor(private readonly ctx: ReleaseContext) {}

  /** The candidate's gates for the environment, evaluated now against the history given. */
  async evaluate(stored: StoredCandidate, environment: string, kind: PromotionKind, reason: string | null, history: History): Promise<GateResult[]> {
    const pipeline = this.ctx.repo.pipeline();
    const context: GateContext = { pipeline, environment, definition: placeOf(pipeline, environment).definition, candidate: stored.manifest, ref: stored.ref, kind, reason, history, now: this.ctx.now() };
    return evaluateGates(context, this.probes(stored));
  }

  /** The gates as they stand, recording nothing. */
  async check(idOrDigest: string, environment: string): Promise<{ verdict: Verdict; gates: GateResult[]; candidate: CandidateRef }> {
    await this.ctx.repo.git.syncToRemote();
    const stored = this.ctx.repo.readCandidate(idOrDigest);
    const history = await this.ctx.journal.history();
    const gates = await this.evaluate(stored, environment, 'promotion', null, history);
    return { verdict: overallVerdict(gates), gates, candidate: stored.ref };
  }

  private probes(stored: StoredCandidate): Probes {
    return {
      integrity: async () => {
        const signature = this.ctx.repo.verifySignature(stored);
        if (!signature.ok) return { verdict: 'fail', reason: `the signature does not verify: ${signature.reason}`, evidence: { signature: signature.reason } };
        const artifact = await checkArtifact(this.ctx, stored.manifest);
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
    return isAbsolute(path) ? path : join(this.ctx.repo.dir, path);
  }

  private async regressionProbe(ctx: GateContext, config: Extract<GateConfig, { gate: 'regression' }>): Promise<ProbeAnswer> {
    const run = this.ctx.options.regression;
    if (!run) return { verdict: 'fail', reason: 'no regression engine is wired into this process', evidence: null };
    const prod = this.repoPath(config.prod);
    const uat = this.repoPath(config.uat);
    for (const [side, file] of [['PROD', prod], ['UAT', uat]] as const) {
      if (!existsSync(file)) return { verdict: 'fail', reason: `${config[side === 'PROD' ? 'prod' : 'uat']} does not exist: describe ${side}'s stores there (a Kepler config file)`, evidence: null };
    }
    const reportDir = join(this.ctx.ensureLocal('runs', 'regression'), `${ctx.environment}-${ctx.candidate.id}-${this.ctx.now().getTime()}`);
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
    const { sourceStore, nodeModules } = this.ctx.options;
    if (!sourceStore) return { verdict: 'fail', reason: 'no way to read a Kepler config file is wired into this process', evidence: null };
    const sourceFile = this.repoPath(config.source);
    if (!existsSync(sourceFile)) return { verdict: 'fail', reason: `${config.source} does not exist: describe the source environment's stores there`, evidence: null };
    const packageDir = await this.candidatePackage(stored.manifest);
    return this.ctx.withScratch('replay-', (scratch) =>
      runInPackage<ProbeAnswer>(packageDir, nodeModules, ['replay', JSON.stringify(sourceStore(sourceFile)), String(config.sample ?? 10_000), scratch]),
    );
  }

  /** The candidate's package, unpacked from its artifact's bytes (once per process). */
  private candidatePackage(manifest: ReleaseCandidate): Promise<string> {
    const key = manifest.artifact.integrity;
    let dir = this.packages.get(key);
    if (!dir) {
      dir = (async () => {
        const { artifact } = manifest;
        const work = await mkdtemp(join(this.ctx.ensureLocal('work'), `package-${artifact.version}-`));
        let tarball: string;
        if (artifact.registry) {
          const got = await this.ctx.registryFor(artifact.registry).download(artifact.name, artifact.version, work);
          if (got.integrity !== artifact.integrity) throw new Error(`the registry's ${artifact.name}@${artifact.version} does not match the candidate's integrity`);
          tarball = got.file;
        } else tarball = this.ctx.localArtifact(artifact.name, artifact.version);
        return extractTarball(tarball, work);
      })();
      this.packages.set(key, dir);
    }
    return dir;
  }
}
