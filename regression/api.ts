// The regression API: runs, verdicts and differences over HTTP, as a fastify
// plugin that sits beside the query API (same server or its own).
//
//   GET /regression/runs                                        every run under the runs directory
//   GET /regression/runs/:run                                   summary: counts, signatures, checksums, gate
//   GET /regression/runs/:run/verdicts?verdict=&reconciler=&limit=&cursor=
//   GET /regression/runs/:run/verdicts/:reconciler/:correlationId   one pair: both sides, differences, history
//   GET /regression/runs/:run/signatures?status=new|accepted|noise
//   GET /regression/runs/:run/signatures/pairs?signature=...&limit=
//   GET /regression/runs/:run/report.html
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { notFound, sendProblem } from '../query-api/index.js';
import { loadLedger, type Ledger } from './ledger.js';
import { buildReport, renderHtml, REPORT_CSP, type FailOn } from './report/index.js';
import { RunStore, ShardStore, type VerdictRow } from './store.js';
import { VERDICTS, type Verdict } from './verdict.js';

export interface RegressionApiOptions {
  /** A directory of runs: each subdirectory a report dir (holding run/) or a run dir (holding run.db). */
  runsDir: string;
  ledgerPath?: string;
  failOn?: FailOn;
}

/** The run directory of each run id. */
export function listRuns(runsDir: string): Map<string, string> {
  const runs = new Map<string, string>();
  const runDirOf = (dir: string) => (RunStore.exists(dir) ? dir : RunStore.exists(join(dir, 'run')) ? join(dir, 'run') : null);
  const own = runDirOf(runsDir);
  if (own) runs.set('_', own);
  if (!existsSync(runsDir)) return runs;
  for (const name of readdirSync(runsDir).sort()) {
    const dir = join(runsDir, name);
    if (!statSync(dir).isDirectory()) continue;
    const runDir = runDirOf(dir);
    if (runDir) runs.set(name, runDir);
  }
  return runs;
}

function withShards<T>(runDir: string, fn: (shards: ShardStore[]) => T): T {
  const run = RunStore.open(runDir, { readonly: true });
  const shards: ShardStore[] = [];
  try {
    const meta = run.meta()!;
    for (let s = 0; s < meta.shards; s++) if (existsSync(run.shardPath(s))) shards.push(ShardStore.open(run.shardPath(s), { readonly: true }));
    return fn(shards);
  } finally {
    for (const s of shards) s.close();
    run.close();
  }
}

const encodeCursor = (row: { reconciler: string; correlationId: string }) => Buffer.from(JSON.stringify([row.reconciler, row.correlationId])).toString('base64url');
function decodeCursor(cursor: string): { reconciler: string; cid: string } | null {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { reconciler: value[0], cid: value[1] };
  } catch {
    // not one of ours
  }
  return null;
}

export function registerRegressionApi(app: FastifyInstance, options: RegressionApiOptions): void {
  const runsDir = resolve(options.runsDir);
  const ledger = (): Ledger => (options.ledgerPath ? loadLedger(options.ledgerPath) : { version: 1, accepted: [] });
  const runDirOr404 = (run: string, reply: FastifyReply): string | null => {
    const dir = listRuns(runsDir).get(run);
    if (!dir) sendProblem(reply, notFound(`regression run ${run}`));
    return dir ?? null;
  };
  const report = (dir: string, maxPairs = 0) =>
    buildReport(dir, { ledger: ledger(), ledgerPath: options.ledgerPath ?? null, failOn: options.failOn ?? 'new', maxPairs });

  app.get('/regression/runs', async () => {
    const items = [...listRuns(runsDir)].map(([id, dir]) => {
      const r = report(dir);
      return { id, createdAt: r.run.createdAt, prod: r.run.prod, uat: r.run.uat, totals: r.totals, signatureCounts: r.signatureCounts, gate: r.gate };
    });
    return { items };
  });

  app.get<{ Params: { run: string } }>('/regression/runs/:run', async (request, reply) => {
    const dir = runDirOr404(request.params.run, reply);
    if (!dir) return reply;
    const { pairs: _pairs, pairsOmitted: _omitted, ...summary } = report(dir);
    return { id: request.params.run, ...summary };
  });

  app.get<{ Params: { run: string }; Querystring: { verdict?: string; reconciler?: string; limit?: string; cursor?: string } }>(
    '/regression/runs/:run/verdicts',
    async (request, reply) => {
      const dir = runDirOr404(request.params.run, reply);
      if (!dir) return reply;
      const verdicts = (request.query.verdict ?? '').split(',').filter(Boolean);
      const unknown = verdicts.filter((v) => !VERDICTS.includes(v as Verdict));
      if (unknown.length > 0) return sendProblem(reply, { type: '/problems/invalid-parameter', title: 'Invalid query parameter', status: 400, detail: `verdict must be among ${VERDICTS.join(', ')}`, parameter: 'verdict' });
      const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100) || 100));
      const after = request.query.cursor ? decodeCursor(request.query.cursor) : null;
      if (request.query.cursor && !after) return sendProblem(reply, { type: '/problems/invalid-parameter', title: 'Invalid query parameter', status: 400, detail: 'cursor is not a cursor this API issued', parameter: 'cursor' });
      const rows = withShards(dir, (shards) =>
        shards
          .flatMap((s) => s.verdicts({ verdicts: verdicts as Verdict[], ...(request.query.reconciler && { reconciler: request.query.reconciler }), ...(after && { after }), limit }))
          .sort((a, b) => (a.reconciler < b.reconciler ? -1 : a.reconciler > b.reconciler ? 1 : a.correlationId < b.correlationId ? -1 : a.correlationId > b.correlationId ? 1 : 0))
          .slice(0, limit),
      );
      return { items: rows, nextCursor: rows.length === limit ? encodeCursor(rows.at(-1) as VerdictRow) : null };
    },
  );

  app.get<{ Params: { run: string; reconciler: string; cid: string } }>('/regression/runs/:run/verdicts/:reconciler/:cid', async (request, reply) => {
    const dir = runDirOr404(request.params.run, reply);
    if (!dir) return reply;
    const { reconciler, cid } = request.params;
    const found = withShards(dir, (shards) => {
      for (const shard of shards) {
        const detail = shard.pairDetail(reconciler, cid);
        if (detail) return { ...detail, prod: detail.prod ?? null, uat: detail.uat ?? null };
      }
      return null;
    });
    if (!found) return sendProblem(reply, notFound(`pair ${reconciler}/${cid}`, request.url));
    return found;
  });

  app.get<{ Params: { run: string }; Querystring: { status?: string } }>('/regression/runs/:run/signatures', async (request, reply) => {
    const dir = runDirOr404(request.params.run, reply);
    if (!dir) return reply;
    const signatures = report(dir).signatures.filter((s) => !request.query.status || s.status === request.query.status);
    return { items: signatures };
  });

  app.get<{ Params: { run: string }; Querystring: { signature?: string; limit?: string } }>('/regression/runs/:run/signatures/pairs', async (request, reply) => {
    const dir = runDirOr404(request.params.run, reply);
    if (!dir) return reply;
    const signature = request.query.signature;
    if (!signature) return sendProblem(reply, { type: '/problems/invalid-parameter', title: 'Invalid query parameter', status: 400, detail: 'signature is required', parameter: 'signature' });
    const limit = Math.min(10_000, Math.max(1, Number(request.query.limit ?? 1000) || 1000));
    const items = withShards(dir, (shards) => shards.flatMap((s) => s.pairsWithSignature(signature, limit)).slice(0, limit));
    return { items: items.map((i) => ({ reconciler: i.reconciler, correlationId: i.cid })) };
  });

  app.get<{ Params: { run: string } }>('/regression/runs/:run/report.html', async (request, reply) => {
    const dir = runDirOr404(request.params.run, reply);
    if (!dir) return reply;
    return reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_CSP).send(renderHtml(report(dir, 500)));
  });
}
