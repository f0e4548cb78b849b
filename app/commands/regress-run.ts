// What `kepler regress`, `regress-accept` and `regress-serve` do, loaded only when one of them runs
// (see regress.ts, which declares them).
import { existsSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import {
  accept,
  buildReport,
  loadLedger,
  loadReconcilers,
  registerRegressionApi,
  rejudgeRun,
  RunStore,
  runRegression,
  saveLedger,
  writeReports,
  type FailOn,
  type Progress,
  type RegressionOptions,
  type ReportModel,
  type RunOutcome,
} from '../../regression/index.js';
import { createHttpServer } from '../../query-api/index.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { httpSecurity, refuseUnguardedListen, warnIfUnguarded } from '../security.js';
import type { AcceptOptions, CommandIo, RegressCliOptions, ServeRunsOptions } from './regress.js';

/** Runs `kepler regress` with parsed options; returns the exit status. */
export async function regress(options: RegressCliOptions, io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const say = (line: string) => io.stdout.write(`${line}\n`);
  const warn = (line: string) => io.stderr.write(`kepler regress: ${line}\n`);
  const reportDir = resolve(options.report ?? './regression-report');
  const runDir = resolve(options.runDir ?? join(reportDir, 'run'));
  const ledgerPath = resolve(options.known ?? './known-differences.json');
  const failOn = options.failOn ?? 'new';
  try {
    const loaded = await loadReconcilers({
      builtin: options.builtin ?? true,
      dirs: options.reconcilers ?? [],
      buildDir: join(runDir, 'reconcilers-build'),
      ...(options.only && { only: options.only }),
    });
    const ledger = loadLedger(ledgerPath);

    if (options.rejudge || options.rejudgeAll) {
      if (!RunStore.exists(runDir)) throw new Error(`no run in ${runDir} to re-judge (give --report or --run-dir)`);
      const result = await rejudgeRun({ runDir, reconcilers: loaded, force: options.rejudgeAll ?? false });
      say(`re-judged ${result.rejudged} pair(s) of ${result.reconcilers.join(', ') || 'no reconciler (every version is current)'}`);
      return finish(runDir, reportDir, ledger, ledgerPath, failOn, options, say);
    }

    if (!options.prod || !options.uat) throw new Error('give --prod and --uat (Kepler config files)');
    if (options.fresh && existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
    for (const file of [options.prod, options.uat, options.baseline]) if (file && !existsSync(file)) throw new Error(`no such config file: ${file}`);

    const controller = new AbortController();
    const signal = io.signal ?? controller.signal;
    const stop = () => controller.abort();
    if (!io.signal) {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
    const progress = options.progress === false ? null : new ProgressView(io.stderr);
    const base: Omit<RegressionOptions, 'runDir' | 'prod' | 'uat'> = {
      reconcilers: loaded,
      mode: options.follow ? 'follow' : 'batch',
      signal,
      ...(options.checksumsOnly && { judge: false }),
      ...(options.workers !== undefined && { workers: options.workers }),
      ...(options.shards !== undefined && { shards: options.shards }),
      timing: { ...(options.quietMs !== undefined && { quietMs: options.quietMs }), ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) },
      range: { ...(options.prodRange && { prod: options.prodRange }), ...(options.uatRange && { uat: options.uatRange }) },
      ...(options.readModelWaitMs !== undefined && { readModelWaitMs: options.readModelWaitMs }),
    };
    const baselineDir = join(runDir, 'baseline');
    let timer: NodeJS.Timeout | null = null;
    try {
      if (options.follow && options.reportEvery) {
        timer = setInterval(() => {
          try {
            if (RunStore.exists(runDir)) writeReports(reportDir, model(runDir, ledger, ledgerPath, failOn, options, options.baseline ? baselineDir : null));
          } catch (error) {
            warn(`could not refresh the report: ${(error as Error).message}`);
          }
        }, options.reportEvery * 1000);
      }
      const split = options.baseline && options.workers !== undefined ? Math.max(options.workers > 0 ? 1 : 0, Math.floor(options.workers / 2)) : options.workers;
      const runs: Array<Promise<RunOutcome>> = [
        runRegression({
          ...base,
          ...(split !== undefined && { workers: split }),
          runDir,
          prod: { label: 'PROD', configFile: options.prod },
          uat: { label: 'UAT', configFile: options.uat },
          ...(progress && { onProgress: (p: Progress) => progress.update(p) }),
        }),
      ];
      if (options.baseline) {
        runs.push(
          runRegression({
            ...base,
            ...(split !== undefined && { workers: split }),
            runDir: baselineDir,
            prod: { label: 'PROD', configFile: options.prod },
            uat: { label: 'PROD-BASELINE', configFile: options.baseline },
          }),
        );
      }
      const [outcome, baselineOutcome] = await Promise.all(runs);
      progress?.stop();
      for (const w of [...outcome!.warnings, ...(baselineOutcome?.warnings ?? [])]) warn(w);
      if (outcome!.inThreadReason && (options.workers ?? 1) > 0) warn(`shards ran in this thread: ${outcome!.inThreadReason}`);
      if (outcome!.rejudged > 0) say(`re-judged ${outcome!.rejudged} stored pair(s): ${outcome!.rejudgedReconcilers.join(', ')} changed version`);
      const o = outcome!;
      const rate = (n: number, ms: number) => (ms > 0 ? `, ${Math.round(n / (ms / 1000)).toLocaleString('en')}/s` : '');
      say(
        `read ${o.prod.events} PROD and ${o.uat.events} UAT events in ${(o.readMs / 1000).toFixed(1)} s${rate(o.prod.events + o.uat.events, o.readMs)}; ` +
          `${o.status === 'completed' ? 'compared' : 'stopped after comparing'} ${o.judged} pair(s)` +
          (o.judgeMs > 0 ? ` in ${(o.judgeMs / 1000).toFixed(1)} s${rate(o.judged, o.judgeMs)}` : '') +
          ` (${o.workers || 'no'} worker thread(s))`,
      );
    } finally {
      if (timer) clearInterval(timer);
      progress?.stop();
      if (!io.signal) {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    }
    return finish(runDir, reportDir, ledger, ledgerPath, failOn, options, say, options.baseline ? baselineDir : null);
  } catch (error) {
    warn((error as Error).message);
    return 2;
  }
}

function model(runDir: string, ledger: ReturnType<typeof loadLedger>, ledgerPath: string, failOn: FailOn, options: RegressCliOptions, baselineDir: string | null = null): ReportModel {
  if (baselineDir && RunStore.exists(baselineDir)) {
    const noise = buildReport(baselineDir, { failOn: 'none', maxPairs: 0 }).signatures;
    const run = RunStore.open(runDir);
    try {
      run.replaceNoise(noise);
    } finally {
      run.close();
    }
  }
  return buildReport(runDir, { ledger, ledgerPath, failOn, baselineDir, ...(options.maxPairs !== undefined && { maxPairs: options.maxPairs }) });
}

function finish(
  runDir: string,
  reportDir: string,
  ledger: ReturnType<typeof loadLedger>,
  ledgerPath: string,
  failOn: FailOn,
  options: RegressCliOptions,
  say: (line: string) => void,
  baselineDir: string | null = null,
): number {
  const report = model(runDir, ledger, ledgerPath, failOn, options, baselineDir);
  const files = writeReports(reportDir, report);
  const v = report.totals.byVerdict;
  say(
    `${report.totals.pairs} pairs: ${v.MATCHED} matched, ${v.DIFFERENT} different, ${v.MISSING_IN_PROD} missing in PROD, ${v.MISSING_IN_UAT} missing in UAT, ` +
      `${v.LATE_MATCH} late match, ${v.LATE_DIFFERENT} late different, ${v.PENDING} pending`,
  );
  for (const c of report.checksums) {
    const differing = c.mismatching.slice(0, 8).map((m) => m.partition).join(', ');
    say(`checksums ${c.reconciler}: ${c.matching}/${c.partitions} partitions hold the same correlation IDs (PROD ${c.prodIds}, UAT ${c.uatIds})${c.mismatching.length ? `; differing: ${differing}${c.mismatching.length > 8 ? ', ...' : ''}` : ''}`);
  }
  if (options.checksumsOnly) {
    const differing = report.checksums.reduce((n, c) => n + c.mismatching.length, 0);
    say(`reports: ${files.html}, ${files.json}, ${files.junit}`);
    return differing > 0 && failOn !== 'none' ? 1 : 0;
  }
  say(`signatures: ${report.signatureCounts.new} new, ${report.signatureCounts.accepted} accepted, ${report.signatureCounts.noise} noise`);
  for (const s of report.signatures.filter((x) => x.status === 'new').slice(0, 20)) say(`  NEW  ${s.signature}  (${s.pairs} pairs, e.g. ${s.examples.slice(0, 3).join(', ')})`);
  say(`gate (--fail-on ${failOn}): ${report.gate.failed ? 'FAIL' : 'PASS'}, ${report.gate.reason}`);
  say(`reports: ${files.html}, ${files.json}, ${files.junit}`);
  return report.gate.failed ? 1 : 0;
}

/** Progress with rates on a terminal; a line every few seconds elsewhere. */
class ProgressView {
  private bars: cliProgress.MultiBar | null = null;
  private prodBar: cliProgress.SingleBar | null = null;
  private uatBar: cliProgress.SingleBar | null = null;
  private judgeBar: cliProgress.SingleBar | null = null;
  private lastLine = 0;
  private readonly started = Date.now();
  private rates = { at: Date.now(), prod: 0, uat: 0, judged: 0, prodRate: 0, uatRate: 0, judgedRate: 0 };

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }) {}

  update(p: Progress): void {
    const now = Date.now();
    const dt = (now - this.rates.at) / 1000;
    if (dt >= 0.5) {
      this.rates = {
        at: now,
        prod: p.prod.events,
        uat: p.uat.events,
        judged: p.judged,
        prodRate: (p.prod.events - this.rates.prod) / dt,
        uatRate: (p.uat.events - this.rates.uat) / dt,
        judgedRate: (p.judged - this.rates.judged) / dt,
      };
    }
    const verdicts = Object.entries(p.byVerdict).map(([k, n]) => `${k} ${n}`).join(', ') || '-';
    if (this.stream.isTTY) {
      if (!this.bars) {
        this.bars = new cliProgress.MultiBar(
          { stream: this.stream, format: '{label} [{bar}] {percentage}% {rate} {detail}', barsize: 20, hideCursor: true, clearOnComplete: false, fps: 5 },
          cliProgress.Presets.shades_classic,
        );
        this.prodBar = this.bars.create(1, 0, { label: 'PROD  ', rate: '', detail: '' });
        this.uatBar = this.bars.create(1, 0, { label: 'UAT   ', rate: '', detail: '' });
        this.judgeBar = this.bars.create(1, 0, { label: 'judged', rate: '', detail: '' });
      }
      const side = (bar: cliProgress.SingleBar | null, s: Progress['prod'], rate: number) => {
        const total = Math.max(1, (s.target ?? s.position) - s.from);
        bar?.setTotal(total);
        bar?.update(Math.min(total, s.position - s.from), { rate: `${Math.round(rate)} ev/s`, detail: `${s.events} events${s.caughtUp ? ' ✓' : ''}` });
      };
      side(this.prodBar, p.prod, this.rates.prodRate);
      side(this.uatBar, p.uat, this.rates.uatRate);
      this.judgeBar?.setTotal(Math.max(1, p.judged));
      const short = Object.entries(p.byVerdict).map(([k, n]) => `${k.replace(/_IN_/, ' ').toLowerCase()} ${n}`).join(', ');
      this.judgeBar?.update(p.judged, { rate: `${Math.round(this.rates.judgedRate)}/s`, detail: `${p.judged} ${p.phase}${short ? `: ${short}` : ''}` });
    } else if (now - this.lastLine > 5000 || p.phase === 'done') {
      this.lastLine = now;
      this.stream.write(
        `[${((now - this.started) / 1000).toFixed(0)}s] ${p.phase}: PROD ${p.prod.position}/${p.prod.target ?? '?'} (${Math.round(this.rates.prodRate)}/s), ` +
          `UAT ${p.uat.position}/${p.uat.target ?? '?'} (${Math.round(this.rates.uatRate)}/s), judged ${p.judged} (${Math.round(this.rates.judgedRate)}/s): ${verdicts}\n`,
      );
    }
  }

  stop(): void {
    this.bars?.stop();
    this.bars = null;
  }
}

/** `kepler regress-accept`: a signature into the known-difference ledger, or out of it. */
export function acceptSignature(options: AcceptOptions): void {
  try {
    const ledger = loadLedger(options.known);
    if (options.revoke) {
      saveLedger(options.known, { version: 1, accepted: ledger.accepted.filter((a) => a.signature !== options.signature) });
      process.stdout.write(`revoked: ${options.signature}\n`);
      return;
    }
    const next = accept(ledger, {
      signature: options.signature,
      acceptedBy: options.by ?? '',
      reason: options.reason ?? '',
      ...(options.expires !== undefined && { expires: options.expires }),
    });
    saveLedger(options.known, next);
    process.stdout.write(`accepted: ${options.signature} (${next.accepted.length} in ${options.known})\n`);
  } catch (error) {
    process.stderr.write(`kepler regress-accept: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}

/** `kepler regress-serve`: the runs in a directory over HTTP, until SIGINT or SIGTERM. */
export async function serveRuns(options: ServeRunsOptions): Promise<void> {
  const loaded = loadConfig({ ...(options.config !== undefined && { configFile: options.config }), insecure: options.insecure });
  const config = { ...loaded, http: { ...loaded.http, host: options.host, port: options.port } };
  const logger = createLogger('kepler-regress-serve');
  try {
    refuseUnguardedListen(config);
  } catch (error) {
    process.stderr.write(`kepler regress-serve: ${(error as Error).message}\n`);
    process.exit(2);
  }
  warnIfUnguarded(config, logger);
  const app = await createHttpServer(logger, {
    https: config.http.tls && { cert: await readFile(config.http.tls.cert), key: await readFile(config.http.tls.key) },
    security: await httpSecurity(config, logger),
  });
  registerRegressionApi(app, { runsDir: resolve(options.runs), ledgerPath: resolve(options.known) });
  const url = await app.listen({ port: options.port, host: options.host });
  process.stderr.write(`kepler regress-serve: ${url}/regression/runs\n`);
  const close = () => void app.close().then(() => process.exit(0));
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
}
