import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { instrumentHttp } from './http.js';
import { prometheusExposition } from './prometheus.js';
import { startTelemetry, stopTelemetry } from './sdk.js';

const identity = { name: 'kepler', version: 'test', environment: 'test', slot: 'blue', roles: ['api'] };

/** The count and sum of one series of http_server_request_duration_seconds, or undefined. */
function series(text: string, labels: RegExp): { count: number; sum: number } | undefined {
  const line = (suffix: string) => text.split('\n').find((l) => l.startsWith(`http_server_request_duration_seconds_${suffix}{`) && labels.test(l));
  const count = line('count');
  const sum = line('sum');
  if (count === undefined || sum === undefined) return undefined;
  return { count: Number(count.split(' ').at(-1)), sum: Number(sum.split(' ').at(-1)) };
}

describe('http.server.request.duration', () => {
  it('records every request by method, route template and status, unknown routes and several methods of one route included, with its duration', async () => {
    await startTelemetry(identity, {});
    const app = Fastify();
    try {
      instrumentHttp(app);
      app.get('/slow/:id', async (request, reply) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        if ((request.params as { id: string }).id === 'missing') return reply.code(404).send({ missing: true });
        return { ok: true };
      });
      app.route({ method: ['GET', 'POST'], url: '/both', handler: async () => ({ ok: true }) });
      for (const url of ['/slow/1', '/slow/2', '/slow/missing', '/nowhere']) await app.inject({ method: 'GET', url });
      await app.inject({ method: 'POST', url: '/both' });
      await app.inject({ method: 'GET', url: '/both' });
      await app.inject({ method: 'GET', url: '/both' });

      const text = (await prometheusExposition())!;
      const ok = series(text, /http_request_method="GET".*http_response_status_code="200".*http_route="\/slow\/:id"/);
      expect(ok?.count).toBe(2);
      // Timed from the request's arrival to the response's end: the handler's 30 ms are in it.
      expect(ok!.sum).toBeGreaterThanOrEqual(0.055);
      expect(ok!.sum).toBeLessThan(5);
      expect(series(text, /http_response_status_code="404".*http_route="\/slow\/:id"/)?.count).toBe(1);
      const unknown = text.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes('status_code="404"') && !l.includes('http_route='));
      expect(unknown).toHaveLength(1);
      expect(unknown[0]).toMatch(/ 1$/);
      expect(series(text, /http_request_method="POST".*http_route="\/both"/)?.count).toBe(1);
      expect(series(text, /http_request_method="GET".*http_route="\/both"/)?.count).toBe(2);
    } finally {
      await app.close();
      await stopTelemetry();
    }
  });

  it('adds no hook before the handler when the SDK runs without tracing, and keeps it while no SDK runs (a later start may turn tracing on)', async () => {
    const hooksOf = async (start: boolean) => {
      if (start) await startTelemetry(identity, {});
      const app = Fastify();
      try {
        instrumentHttp(app);
        app.get('/x', async () => ({ ok: true }));
        await app.ready();
        return app.printRoutes({ includeHooks: true });
      } finally {
        await app.close();
        if (start) await stopTelemetry();
      }
    };
    const untraced = await hooksOf(true);
    expect(untraced).toContain('(onResponse)');
    expect(untraced).not.toContain('(preHandler)');
    expect(await hooksOf(false)).toContain('(preHandler)');
  });
});
