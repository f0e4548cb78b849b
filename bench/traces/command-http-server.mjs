// node command-http-server.mjs ROOT PORT MODE: the command API's HTTP path alone (BENCHMARKS.md, ninth session).
// MODE stub: serve's HTTP server as serve builds it (config, logger, security, telemetry, instrumentHttp) and
// its command routes over a CommandService that answers at once; empty: bench/empty-route-server's route.
// ABL=tel,resp,headers,body,handler,parser takes parts away (telemetry; the response, header or body schema;
// the route's own work, for a handler that answers a constant; the JSON parser, for a constant body).
// Prints its URL on stdout; stops on SIGTERM. Drive it with command-http-callgrind.mjs.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
const [root, port, mode] = process.argv.slice(2);
// As the CLI does first (app/tick-object-maps.ts): without it a run may fall into nextTick's slow literal (+25,000 instructions a request).
await import(pathToFileURL(resolve(root, 'dist/app/tick-object-maps.js')).href);
const at = (p) => import(pathToFileURL(resolve(root, 'dist', p)).href);
let app;
if (mode === 'empty') {
  const { default: Fastify } = await import(pathToFileURL(resolve(root, 'node_modules/fastify/fastify.js')).href);
  app = Fastify();
  app.get('/', async () => ({ hello: 'world' }));
} else {
  const { loadConfig } = await at('app/config.js');
  const { createLogger } = await at('app/logger.js');
  const { httpSecurity } = await at('app/security.js');
  const { createHttpServer } = await at('query-api/index.js');
  const { registerCommandApi, IdempotencyLedger } = await at('command-api/index.js');
  const tel = await at('telemetry/index.js');
  const E = await import(pathToFileURL(resolve(root, 'node_modules/fp-ts/lib/Either.js')).href);
  const config = loadConfig({ dataDir: '/tmp/cmd/unused', port: +port });
  const logger = createLogger('kepler', { roles: config.roles });
  let position = 0;
  const abl = (process.env.ABL ?? '').split(',');
  if (!abl.includes('tel')) await tel.startTelemetry(tel.serviceIdentity({ version: '1', roles: config.roles }));
  app = await createHttpServer(logger, { security: await httpSecurity(config, logger) });
  if (!abl.includes('tel')) tel.instrumentHttp(app);
  const strip = (opts) => { if (opts?.schema) { if (abl.includes('resp')) delete opts.schema.response; if (abl.includes('headers')) delete opts.schema.headers; if (abl.includes('body')) delete opts.schema.body; } return opts; };
  const api = app.withTypeProvider();
  if (abl.includes('parser')) { const CONST = { tradeRef: 'X', account: 'ACC-1', isin: 'US0378331005', side: 'BUY', quantity: 100, price: '10.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CPTY' }; app.removeContentTypeParser('application/json'); app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => done(null, { ...CONST, tradeRef: /"tradeRef":"([^"]*)"/.exec(body)[1] })); }
  const wrapped = new Proxy(app, { get: (t, k) => k === 'withTypeProvider' ? () => new Proxy(api, { get: (t2, k2) => (k2 === 'post' || k2 === 'put' || k2 === 'delete') ? (u, o, h) => t2[k2](u, strip(o), abl.includes('handler') ? async (req, reply) => { reply.code(201); reply.header('etag', '"1"'); return { tradeRef: req.body.tradeRef, version: 1, position: ++position }; } : h) : Reflect.get(t2, k2) }) : Reflect.get(t, k) });
  const commands = { captureTrade: async (tradeRef) => E.right({ tradeRef, version: 1, position: ++position }) };
  registerCommandApi(wrapped, { commands, ledger: new IdempotencyLedger({}) });
  tel.registerOperationalRoutes(app, { ready: async () => ({ ready: true, checks: [] }) });
}
const url = await app.listen({ host: '127.0.0.1', port: +port });
process.stdout.write(`${url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
