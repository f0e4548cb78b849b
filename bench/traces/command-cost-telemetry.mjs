// node command-cost-telemetry.mjs DIST DIR COUNT CONC ROLES: command-cost.mjs with the telemetry SDK started first, as serve starts it (metrics on, tracing off).
const dist = process.argv[2];
const tel = await import(`${dist}/telemetry/index.js`);
await tel.startTelemetry(tel.serviceIdentity({ version: '1', roles: ['api', 'processors'] }), {});
await import('./command-cost.mjs');
