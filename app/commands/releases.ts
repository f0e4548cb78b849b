// The release commands: pipeline, release, profile, promote, gate, approve,
// rollback, freeze, veto, pin. Wiring only: the work is in releases/.
//
// Exit status: 0 done (a gate check: every gate passes), 1 refused (a gate
// fails, or the command was refused, such as a self-approval), 2 pending (a
// gate waits for time or an approval), 3 error (bad input, a missing file, a
// server that cannot be reached).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { Actor, EventStore } from '../../eventstore/index.js';
import type { GateResult, PipelineRepository, PromotionOutcome, Rendered, RegressionRunner, ReleaseService, Slot } from '../../releases/index.js';
import { packageRoot } from '../package-root.js';
import { OperatorRefusedError } from './operator-refused.js';

const EXIT = { ok: 0, refused: 1, pending: 2, error: 3 } as const;

// Loaded when a release command runs, so other commands do not pay for it at start-up.
const releases = () => import('../../releases/index.js');

interface Common {
  repo?: string;
  actor?: string;
  dataDir?: string;
  config?: string;
  json?: boolean;
}

/**
 * Who runs a release command: the principal of KEPLER_TOKEN with authentication
 * configured (the command's scope required, --actor refused), else --actor,
 * KEPLER_ACTOR or the OS user, a label (see operatorActor).
 */
async function actorOf(command: string, options: Common): Promise<Actor> {
  const [{ loadConfig }, { operatorActor }] = await Promise.all([config(), operations()]);
  return operatorActor(loadConfig({ configFile: options.config }).auth, command, options.actor);
}

// The configuration and the stores, loaded when a release command runs: the CLI registers these
// commands at every start, and they would load the event store and better-sqlite3 before
// `kepler ingest` starts its intake thread.
const config = () => import('../config.js');
const operations = () => import('./operations.js');

const say = (line = '') => process.stdout.write(`${line}\n`);
const complain = (command: string, line: string) => process.stderr.write(`kepler ${command}: ${line}\n`);

function repoDir(options: Common): string {
  return resolve(options.repo ?? process.env.KEPLER_PIPELINE_REPO ?? '.');
}

/**
 * The release journal lives in Kepler's own event store: the one --config,
 * --data-dir or the KEPLER_* variables name, or else a SQLite store in the
 * clone's .kepler/ (share one store between everyone who promotes).
 */
async function openJournal(options: Common, dir: string): Promise<EventStore> {
  const named = options.dataDir ?? options.config ?? process.env.KEPLER_DATA_DIR ?? process.env.KEPLER_CONFIG ?? process.env.KEPLER_EVENTSTORE_URL;
  const [{ loadConfig }, { openEventStore }] = await Promise.all([config(), import('../stores.js')]);
  return openEventStore(loadConfig({ dataDir: named ? options.dataDir : join(dir, '.kepler'), configFile: options.config }).eventStore);
}

/** The regression gate runs the real `kepler regress`, in this process. */
export const regressionRunner: RegressionRunner = async (spec) => {
  const { regress } = await import('./regress-run.js');
  let output = '';
  const sink = { write: (chunk: string | Uint8Array) => ((output += chunk.toString()), true) } as unknown as NodeJS.WritableStream;
  const exitCode = await regress(
    {
      prod: spec.prod,
      uat: spec.uat,
      report: spec.reportDir,
      failOn: spec.failOn,
      known: spec.known ?? join(spec.reportDir, 'known-differences.json'),
      ...(spec.reconcilers && { reconcilers: [spec.reconcilers] }),
      fresh: true,
      progress: false,
    },
    { stdout: sink, stderr: sink, signal: new AbortController().signal },
  );
  return { exitCode, output };
};

async function withService<T>(command: string, options: Common, run: (service: ReleaseService, repo: PipelineRepository) => Promise<T>): Promise<T | number> {
  const dir = repoDir(options);
  let store: EventStore | null = null;
  const { PipelineRepository, RefusedError, ReleaseService } = await releases();
  const { configFromFile } = await import('../../regression/index.js');
  try {
    // Settled first: a refused operator opens nothing.
    const actor = await actorOf(command, options);
    const repo = new PipelineRepository(dir);
    repo.pipeline();
    store = await openJournal(options, dir);
    const service = new ReleaseService({
      repo,
      store,
      actor,
      regression: regressionRunner,
      sourceStore: (file) => configFromFile(file).eventStore,
      nodeModules: join(packageRoot(), 'node_modules'),
      warn: (line) => complain(command, line),
    });
    return await run(service, repo);
  } catch (error) {
    complain(command, (error as Error).message);
    return error instanceof RefusedError || error instanceof OperatorRefusedError ? EXIT.refused : EXIT.error;
  } finally {
    await store?.close();
  }
}

function common(command: Command, options: { json?: boolean } = {}): Command {
  command
    .option('--repo <dir>', 'the pipeline repository, a git clone (default: KEPLER_PIPELINE_REPO or .)')
    .option('--actor <name>', 'who is acting, a label (default: KEPLER_ACTOR, else the OS user); refused with authentication configured: the actor is then KEPLER_TOKEN’s principal')
    .option('--data-dir <dir>', 'the event store that keeps the promotion history (default: the clone’s .kepler/)')
    .option('--config <file>', 'a Kepler config file naming that event store');
  if (options.json) command.option('--json', 'JSON on stdout');
  // A usage error is an error (3), like any other, never a refusal.
  command.exitOverride((error) => {
    if (error.exitCode === 0) process.exit(0);
    process.exit(EXIT.error);
  });
  return command;
}

const setExit = (code: number | void) => {
  process.exitCode = typeof code === 'number' ? code : 0;
};

function printGates(gates: readonly GateResult[]): void {
  for (const g of gates) say(`  ${g.verdict.toUpperCase().padEnd(7)} ${g.gate.padEnd(10)} ${g.reason}${g.waived ? ` [waived: ${g.waived}]` : ''}`);
}

function outcomeExit(outcome: PromotionOutcome): number {
  if (outcome.status === 'refused') return EXIT.refused;
  if (outcome.status === 'pending') return EXIT.pending;
  if (outcome.status === 'planned') return outcome.verdict === 'pass' ? EXIT.ok : outcome.verdict === 'fail' ? EXIT.refused : EXIT.pending;
  return EXIT.ok;
}

function reportOutcome(command: string, outcome: PromotionOutcome, json: boolean | undefined): number {
  if (json) say(JSON.stringify(outcome, null, 2));
  else {
    const title =
      outcome.status === 'refused' || outcome.status === 'pending'
        ? `${outcome.kind} of ${outcome.candidate.id} to ${outcome.environment} ${outcome.status === 'refused' ? 'REFUSED' : 'PENDING'}`
        : `${outcome.kind} of ${outcome.candidate.id} to ${outcome.environment}: ${outcome.status}`;
    say(title);
    if (outcome.gates.length) printGates(outcome.gates);
    if (outcome.status !== 'refused' && outcome.status !== 'pending') say(outcome.message);
  }
  if (outcome.status === 'refused' || outcome.status === 'pending') {
    for (const g of outcome.gates.filter((x) => x.verdict !== 'pass')) complain(command, `gate ${g.gate} ${g.verdict === 'fail' ? 'failed' : 'is pending'}: ${g.reason}`);
  }
  return outcomeExit(outcome);
}

// ── pipeline ────────────────────────────────────────────────────────────────

function pipelineCommand(): Command {
  const pipeline = new Command('pipeline').description('the release pipeline: a git repository with the environments, profiles, candidates and desired states');
  pipeline.addCommand(
    common(new Command('init'), { json: true })
      .description('create a pipeline repository: nine environments in five phases, base profiles, schemas, a signing key')
      .option('--registry <url>', 'the npm registry artifacts are published to')
      .option('--remote <url>', 'push the new repository to this (empty) git remote')
      .option('--key <file>', 'trust this Ed25519 private key (PEM) instead of making one in .kepler/')
      .action(async (options: Common & { registry?: string; remote?: string; key?: string }) => {
        try {
          const { initPipeline } = await releases();
          const actor = await actorOf('pipeline init', options);
          const result = await initPipeline({ dir: repoDir(options), registry: options.registry ?? null, remote: options.remote ?? null, keyFile: options.key ?? null, actor });
          if (options.json) say(JSON.stringify(result));
          else {
            say(`initialised the pipeline in ${result.dir} (commit ${result.commit.slice(0, 12)})`);
            say(`environments: ${result.environments.join(', ')}`);
            say(`signing key ${result.keyid.slice(0, 12)} in ${result.keyFile}; keep it safe, or give your own with --key`);
          }
          setExit(EXIT.ok);
        } catch (error) {
          complain('pipeline init', (error as Error).message);
          setExit(error instanceof OperatorRefusedError ? EXIT.refused : EXIT.error);
        }
      }),
  );
  pipeline.addCommand(
    common(new Command('status'), { json: true })
      .description('each environment with its candidate, slots, gates and age')
      .action(async (options: Common) =>
        setExit(
          await withService('pipeline status', options, async (service) => {
            const status = await service.status();
            if (options.json) {
              say(JSON.stringify(status, null, 2));
              return EXIT.ok;
            }
            say(`pipeline ${status.pipeline} at ${status.at}`);
            let phase = '';
            for (const e of status.environments) {
              if (e.phase !== phase) say(`${(phase = e.phase)}:`);
              const live = e.live ? `${e.live.candidate} live in ${e.live.slot} (${e.live.status}${e.live.ageMs !== null ? `, ${formatAge(e.live.ageMs)}` : ''})` : 'nothing deployed';
              const idle = Object.entries(e.slots)
                .filter(([slot]) => slot !== e.live?.slot)
                .map(([slot, c]) => `; ${slot}: ${c.candidate} (${c.status})`)
                .join('');
              const flags = [e.frozen && `FROZEN${e.frozen.until ? ` until ${e.frozen.until}` : ''}: ${e.frozen.reason}`, e.pinned && `PINNED to ${e.pinned.candidate}: ${e.pinned.reason}`, e.optional && 'optional'].filter(Boolean);
              say(`  ${e.environment.padEnd(8)} ${live}${idle}${flags.length ? ` [${flags.join('; ')}]` : ''}`);
              const p = e.latestPromotion;
              if (p && p.status !== 'soaked' && (p.candidate !== e.live?.candidate || p.status !== 'verified')) {
                say(`           last: ${p.kind} of ${p.candidate} ${p.status} (attempt ${p.attempt} by ${p.requestedBy ?? '?'})`);
                for (const g of p.gates.filter((x) => x.verdict !== 'pass')) say(`             ${g.verdict} ${g.gate}: ${g.reason}`);
              }
            }
            return EXIT.ok;
          }),
        ),
      ),
  );
  return pipeline;
}

function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(minutes / 1440)}d`;
}

// ── release ─────────────────────────────────────────────────────────────────

function releaseCommand(): Command {
  const release = new Command('release').description('release candidates: cut, verify, diff');
  release.addCommand(
    common(new Command('cut'), { json: true })
      .description('cut a candidate: pack, publish and sign Kepler, freeze every environment’s profile; prints {id, digest}')
      .option('--registry <url>', 'publish to this npm registry (default: the pipeline’s)')
      .option('--source <dir>', 'the Kepler checkout to pack (default: this Kepler)')
      .option('--rc', 'cut a candidate of the next release (YYYY.MDD.N-rc.K) rather than a release')
      .option('--from <id>', 'a configuration-only child of this candidate: same artifact, today’s profiles')
      .option('--reason <text>', 'why (required with --from)')
      .option('--allow-dirty', 'cut even with uncommitted changes in the source (recorded in the candidate)')
      .option('--key <file>', 'the Ed25519 signing key (default: KEPLER_SIGNING_KEY, else the clone’s .kepler/signing-key.pem)')
      .action(async (options: Common & { registry?: string; source?: string; rc?: boolean; from?: string; reason?: string; allowDirty?: boolean; key?: string }) =>
        setExit(
          await withService('release cut', options, async (service, repo) => {
            const { DEFAULT_KEY_FILE } = await releases();
            const keyFile = resolve(options.key ?? process.env.KEPLER_SIGNING_KEY ?? repo.path(DEFAULT_KEY_FILE));
            if (!existsSync(keyFile)) throw new Error(`no signing key at ${keyFile} (give --key or KEPLER_SIGNING_KEY)`);
            const cut = await service.cut({
              source: options.source ?? packageRoot(),
              ...(options.registry !== undefined && { registry: options.registry }),
              kind: options.rc ? 'rc' : 'release',
              ...(options.from && { from: options.from }),
              reason: options.reason ?? null,
              allowDirty: options.allowDirty ?? false,
              signingKey: readFileSync(keyFile, 'utf8'),
            });
            if (options.json) say(JSON.stringify({ id: cut.id, digest: cut.digest }));
            else {
              say(`cut ${cut.id} ${cut.digest}`);
              say(`  artifact ${cut.candidate.artifact.name}@${cut.candidate.artifact.version} ${cut.candidate.artifact.integrity} ${cut.candidate.artifact.registry ?? '(kept in .kepler/artifacts: no registry)'}`);
              const rebuild = cut.candidate.projections.filter((p) => p.needsRebuild).map((p) => p.name);
              say(`  event schema v${cut.candidate.eventSchemaVersion}; projections needing a rebuild: ${rebuild.join(', ') || 'none'}`);
            }
            return EXIT.ok;
          }),
        ),
      ),
  );
  release.addCommand(
    common(new Command('verify'), { json: true })
      .description('check a candidate: manifest, signature (offline), cut record and the registry’s tarball')
      .argument('<id>', 'candidate id or digest')
      .option('--offline', 'do not fetch the artifact')
      .action(async (id: string, options: Common & { offline?: boolean }) =>
        setExit(
          await withService('release verify', options, async (service) => {
            const result = await service.verify(id, { offline: options.offline ?? false });
            if (options.json) say(JSON.stringify(result, null, 2));
            else {
              say(`${result.ref ? `${result.ref.id} ${result.ref.digest}` : id}: ${result.ok ? 'VERIFIED' : 'FAILED'}`);
              for (const c of result.checks) say(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}`);
            }
            return result.ok ? EXIT.ok : EXIT.refused;
          }),
        ),
      ),
  );
  release.addCommand(
    common(new Command('diff'), { json: true })
      .description('code and configuration between two candidates')
      .argument('<a>')
      .argument('<b>')
      .option('--source <dir>', 'a Kepler checkout, to list the commits between them')
      .action(async (a: string, b: string, options: Common & { source?: string }) =>
        setExit(
          await withService('release diff', options, async (service) => {
            const diff = await service.diff(a, b, { source: options.source ?? packageRoot() });
            if (options.json) {
              say(JSON.stringify(diff, null, 2));
              return EXIT.ok;
            }
            say(`${diff.from.id} → ${diff.to.id}${diff.lineage.parentOfTo?.id === diff.from.id ? ` (configuration-only child: ${diff.lineage.reason})` : ''}`);
            say('code:');
            if (!diff.code.changed) say(`  the same artifact (${diff.code.artifact.to}): the same bytes`);
            else {
              say(`  ${diff.code.artifact.from} → ${diff.code.artifact.to}; commits ${diff.code.commits.from.slice(0, 12)} → ${diff.code.commits.to.slice(0, 12)}`);
              for (const line of diff.code.commits.log ?? []) say(`    ${line}`);
            }
            if (diff.code.eventSchemaVersion) say(`  event schema v${diff.code.eventSchemaVersion.from} → v${diff.code.eventSchemaVersion.to}`);
            for (const p of diff.code.projections) say(`  projection ${p.name}: ${p.from ? `v${p.from.version}` : 'new'} → ${p.to ? `v${p.to.version}` : 'removed'} (rebuild)`);
            say('configuration:');
            if (diff.configuration.length === 0) say('  no profile changed');
            for (const c of diff.configuration) say(`  ${c.environment}: ${c.from ?? '(none)'} → ${c.to ?? '(none)'}\n    ${JSON.stringify(c.patch)}`);
            return EXIT.ok;
          }),
        ),
      ),
  );
  return release;
}

// ── profile ─────────────────────────────────────────────────────────────────

function profileCommand(): Command {
  const profile = new Command('profile').description('deployment profiles: a base and one merge patch per environment');
  const load = async (options: { repo?: string }) => {
    const { PipelineRepository, readPipeline, readProfileSources, renderAll } = await releases();
    const repo = new PipelineRepository(repoDir(options));
    const pipeline = readPipeline(JSON.parse(readFileSync(repo.path('pipeline.json'), 'utf8')), repo.path('pipeline.json'));
    return renderAll(readProfileSources(repo.path('profiles'), pipeline.phases.flatMap((p) => p.environments.map((e) => e.name))), repo.path('profiles'));
  };
  profile.addCommand(
    common(new Command('validate'))
      .description('render and validate every environment’s profile (or FILE for --env)')
      .argument('[file]', 'a base profile (patches beside it) or a rendered profile, instead of the repository’s')
      .option('--env <name>', 'the environment, with FILE')
      .action(async (file: string | undefined, options: Common & { env?: string }) => {
        try {
          const { loadProfileFile } = await releases();
          if (file) {
            if (!options.env) throw new Error('give --env with a file');
            const r = loadProfileFile(file, options.env);
            say(`${options.env}: valid ${r.digest}`);
          } else for (const [env, r] of await load(options)) say(`${env.padEnd(8)} valid ${r.digest}`);
          setExit(EXIT.ok);
        } catch (error) {
          complain('profile validate', (error as Error).message);
          setExit(EXIT.refused);
        }
      }),
  );
  profile.addCommand(
    common(new Command('render'))
      .description('an environment’s profile as canonical JSON, a Nomad job or systemd units')
      .argument('[file]', 'a base profile (patches beside it) or a rendered profile, instead of the repository’s')
      .requiredOption('--env <name>', 'the environment')
      .addOption(new Option('--format <format>', 'what to render').choices(['json', 'nomad', 'systemd']).default('json'))
      .option('--candidate <id>', 'render the profile the candidate froze, deploying its artifact (nomad, systemd)')
      .addOption(new Option('--slot <slot>', 'the slot the job runs as').choices(['blue', 'green']))
      .option('--shared', 'the processes both slots share (gateway, topology) rather than a slot’s (nomad, systemd)')
      .action(async (file: string | undefined, options: Common & { env: string; format: 'json' | 'nomad' | 'systemd'; candidate?: string; slot?: Slot; shared?: boolean }) => {
        try {
          const { loadProfileFile, PipelineRepository, renderNomadJob, renderSystemdUnits } = await releases();
          let rendered: Rendered;
          let candidate = { id: 'unreleased', digest: 'none' };
          let artifact: { name: string; version: string; registry: string | null } = { name: 'kepler', version: 'latest', registry: null };
          if (options.candidate) {
            const stored = new PipelineRepository(repoDir(options)).readCandidate(options.candidate);
            const frozen = stored.profiles.get(options.env);
            if (!frozen) throw new Error(`${stored.ref.id} froze no profile for ${options.env}`);
            rendered = frozen;
            candidate = stored.ref;
            artifact = stored.manifest.artifact;
          } else if (file) rendered = loadProfileFile(file, options.env);
          else {
            const all = await load(options);
            const r = all.get(options.env);
            if (!r) throw new Error(`no environment ${options.env} (the pipeline has ${[...all.keys()].join(', ')})`);
            rendered = r;
          }
          const deployment = { profile: rendered.profile, profileDigest: rendered.digest, slot: options.slot ?? (rendered.profile.slots[0] as Slot), candidate, artifact };
          const part = options.shared ? ('shared' as const) : ('slot' as const);
          if (options.format === 'json') {
            say(rendered.canonical);
            process.stderr.write(`${rendered.digest}\n`);
          } else if (options.format === 'nomad') say(JSON.stringify(renderNomadJob(deployment, { part }), null, 2));
          else for (const unit of renderSystemdUnits(deployment, { part })) say(`# ${unit.name}\n${unit.text}`);
          setExit(EXIT.ok);
        } catch (error) {
          complain('profile render', (error as Error).message);
          setExit(EXIT.error);
        }
      }),
  );
  return profile;
}

// ── promotions ──────────────────────────────────────────────────────────────

function promoteCommand(): Command {
  return common(new Command('promote'), { json: true })
    .description('promote a candidate to an environment: gates, one commit and tag promote/ENV/ID, the dist-tag; exits 1 naming a failing gate')
    .argument('<id>', 'candidate id or digest')
    .requiredOption('--to <env>', 'the environment')
    .option('--plan', 'evaluate the gates and say what would change, changing nothing')
    .option('--hotfix', 'skip the phases before (upstream, soak), with more approvals; needs --reason')
    .option('--reason <text>', 'why (recorded)')
    .option('--verified', 'record that the candidate runs correctly in the environment (its checks passed)')
    .option('--evidence <text>', 'with --verified: what proves it (a test run’s URL, say)')
    .option('--cut-over', 'switch the environment’s traffic to the slot the candidate was deployed into')
    .action(async (id: string, options: Common & { to: string; plan?: boolean; hotfix?: boolean; reason?: string; verified?: boolean; evidence?: string; cutOver?: boolean }) =>
      setExit(
        await withService('promote', options, async (service) => {
          if (options.verified) {
            const state = await service.markVerified(id, options.to, options.evidence ?? null);
            say(`${state.candidate!.id} verified in ${options.to} (slot ${state.applied?.slot}) by ${state.verified!.by.subject}`);
            return EXIT.ok;
          }
          if (options.cutOver) {
            const r = await service.cutOver(id, options.to);
            say(r.unchanged ? `${options.to} already takes traffic in ${r.to}` : `${options.to}: traffic switched from ${r.from} to ${r.to} (commit ${r.commit.slice(0, 12)})`);
            return EXIT.ok;
          }
          return reportOutcome('promote', await service.promote(id, options.to, { plan: options.plan ?? false, hotfix: options.hotfix ?? false, reason: options.reason ?? null }), options.json);
        }),
      ),
    );
}

function gateCommand(): Command {
  const gate = new Command('gate').description('promotion gates');
  gate.addCommand(
    common(new Command('check'), { json: true })
      .description('evaluate every gate of a promotion, recording nothing: exit 0 pass, 1 fail, 2 pending, 3 error')
      .argument('<id>', 'candidate id or digest')
      .requiredOption('--env <env>', 'the environment')
      .action(async (id: string, options: Common & { env: string }) =>
        setExit(
          await withService('gate check', options, async (service) => {
            const r = await service.gateCheck(id, options.env);
            if (options.json) say(JSON.stringify(r, null, 2));
            else {
              say(`${r.candidate.id} → ${options.env}: ${r.verdict.toUpperCase()}`);
              printGates(r.gates);
            }
            return r.verdict === 'pass' ? EXIT.ok : r.verdict === 'fail' ? EXIT.refused : EXIT.pending;
          }),
        ),
      ),
  );
  return gate;
}

function approveCommand(): Command {
  return common(new Command('approve'))
    .description('approve a candidate for an environment (never the person who cut it)')
    .argument('<id>', 'candidate id or digest')
    .requiredOption('--env <env>', 'the environment')
    .addOption(new Option('--override <gate>', 'also allow the promotion through a freeze or a closed window').choices(['windows']))
    .option('--reason <text>', 'why (recorded)')
    .action(async (id: string, options: Common & { env: string; override?: 'windows'; reason?: string }) =>
      setExit(
        await withService('approve', options, async (service) => {
          const r = await service.approve(id, options.env, { overrides: options.override ? [options.override] : [], reason: options.reason ?? null });
          say(r.recorded ? `approved ${id} for ${options.env}${options.override ? ` (overriding ${options.override})` : ''}` : `already approved ${id} for ${options.env}`);
          return EXIT.ok;
        }),
      ),
    );
}

function rollbackCommand(): Command {
  return common(new Command('rollback'), { json: true })
    .description('a new promotion of an older candidate that ran in the environment before (blue/green: straight back to the idle slot)')
    .argument('<env>', 'the environment')
    .requiredOption('--to <id>', 'the candidate to go back to')
    .option('--reason <text>', 'why (recorded)')
    .option('--plan', 'say what would change, changing nothing')
    .action(async (env: string, options: Common & { to: string; reason?: string; plan?: boolean }) =>
      setExit(await withService('rollback', options, async (service) => reportOutcome('rollback', await service.rollback(env, options.to, { reason: options.reason ?? null, plan: options.plan ?? false }), options.json))),
    );
}

function freezeCommand(): Command {
  return common(new Command('freeze'))
    .description('freeze environments: no promotion until the freeze ends or is lifted (an approval with --override windows gets through)')
    .argument('<env...>', 'the environments')
    .option('--until <time>', 'ISO 8601 end of the freeze (default: until lifted)')
    .option('--reason <text>', 'why')
    .option('--lift', 'lift the freeze')
    .action(async (envs: string[], options: Common & { until?: string; reason?: string; lift?: boolean }) =>
      setExit(
        await withService('freeze', options, async (service) => {
          if (options.lift) {
            await service.unfreeze(envs, options.reason ?? null);
            say(`lifted the freeze of ${envs.join(', ')}`);
            return EXIT.ok;
          }
          if (!options.reason) throw new Error('a freeze needs --reason');
          const until = options.until ? new Date(options.until) : null;
          if (until && Number.isNaN(until.getTime())) throw new Error(`--until ${options.until} is not an ISO 8601 time`);
          await service.freeze(envs, { until, reason: options.reason });
          say(`froze ${envs.join(', ')}${until ? ` until ${until.toISOString()}` : ''}`);
          return EXIT.ok;
        }),
      ),
    );
}

function vetoCommand(): Command {
  return common(new Command('veto'))
    .description('veto a candidate in one environment or all: no promotion of it there until the veto is lifted')
    .argument('<id>', 'candidate id or digest')
    .option('--env <env>', 'only this environment')
    .option('--reason <text>', 'why (required)')
    .option('--lift', 'lift the veto')
    .action(async (id: string, options: Common & { env?: string; reason?: string; lift?: boolean }) =>
      setExit(
        await withService('veto', options, async (service) => {
          if (!options.reason) throw new Error('give --reason');
          const envs = await service.veto(id, options.env ?? null, options.reason, options.lift ?? false);
          say(`${options.lift ? 'lifted the veto of' : 'vetoed'} ${id} in ${envs.join(', ')}`);
          return EXIT.ok;
        }),
      ),
    );
}

function pinCommand(): Command {
  return common(new Command('pin'))
    .description('pin an environment to a candidate (its live one by default): nothing else is promoted there until lifted')
    .argument('<env>', 'the environment')
    .option('--to <id>', 'the candidate (default: the live one)')
    .option('--reason <text>', 'why')
    .option('--lift', 'lift the pin')
    .action(async (env: string, options: Common & { to?: string; reason?: string; lift?: boolean }) =>
      setExit(
        await withService('pin', options, async (service) => {
          if (options.lift) {
            await service.unpin(env, options.reason ?? null);
            say(`lifted the pin of ${env}`);
            return EXIT.ok;
          }
          if (!options.reason) throw new Error('a pin needs --reason');
          const ref = await service.pin(env, options.to ?? null, options.reason);
          say(`pinned ${env} to ${ref.id}`);
          return EXIT.ok;
        }),
      ),
    );
}

/** The commands to add to the `kepler` program. */
export function releaseCommands(): Command[] {
  return [pipelineCommand(), releaseCommand(), profileCommand(), promoteCommand(), gateCommand(), approveCommand(), rollbackCommand(), freezeCommand(), vetoCommand(), pinCommand()];
}
