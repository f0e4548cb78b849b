// The HEC shipper against a small local responder: the answers a real HEC gives
// but the collector's splunk_hec receiver never sends (503/code 9, 400/code 6
// with invalid-event-number, auth refusals). This responder is the one mock here;
// valid envelopes and the token are checked against the real receiver
// (tests/e2e/observability.test.ts).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HecShipper } from './hec.js';

interface Received {
  authorization: string | undefined;
  path: string | undefined;
  events: Array<{ time: number; host: string; source: string; sourcetype: string; index?: string; event: { msg: string }; fields: Record<string, string> }>;
}

/** Answers each request with the next scripted answer (the last one repeats). */
async function responder(answers: Array<{ status: number; body: unknown } | 'hang-up'>): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let next = 0;
  const server: Server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      // Concatenated envelopes, not an array: split them as HEC does.
      const events = JSON.parse(`[${body.replace(/\}\{"time"/g, '},{"time"')}]`) as Received['events'];
      received.push({ authorization: request.headers.authorization, path: request.url, events });
      const answer = answers[Math.min(next++, answers.length - 1)]!;
      if (answer === 'hang-up') return request.socket.destroy();
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const OK = { status: 200, body: { text: 'Success', code: 0 } };
const line = (msg: string, level = 30) => `${JSON.stringify({ level, time: 1_800_000_000_123, pid: 1, msg })}\n`;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup) await step();
  cleanup = [];
});

async function shipperFor(answers: Parameters<typeof responder>[0], options: Partial<ConstructorParameters<typeof HecShipper>[0]> = {}) {
  const hec = await responder(answers);
  const warnings: string[] = [];
  const shipper = new HecShipper({ url: hec.url, token: 'tok-123', index: 'kepler', fields: { 'service.name': 'kepler', slot: 'blue' }, retryInitialMs: 10, retryMaxMs: 50, warn: (m) => warnings.push(m), ...options });
  cleanup.push(async () => {
    await shipper.close(1000);
    await hec.close();
  });
  return { hec, shipper, warnings };
}

describe('Splunk HEC shipping', () => {
  it('sends concatenated envelopes to /services/collector/event with the token, time in seconds and indexed fields', async () => {
    const { hec, shipper } = await shipperFor([OK]);
    shipper.write(line('one'));
    shipper.write(line('two', 50));
    await shipper.flush();
    expect(hec.received).toHaveLength(1);
    const [request] = hec.received;
    expect(request!.authorization).toBe('Splunk tok-123');
    expect(request!.path).toBe('/services/collector/event');
    expect(request!.events.map((e) => e.event.msg)).toEqual(['one', 'two']);
    expect(request!.events[0]).toMatchObject({ time: 1_800_000_000.123, source: 'kepler', sourcetype: '_json', index: 'kepler', fields: { 'service.name': 'kepler', slot: 'blue', level: 'info' } });
    expect(request!.events[1]!.fields.level).toBe('error');
    expect(shipper.stats).toMatchObject({ shipped: 2, buffered: 0, stopped: false });
  });

  it('sends a batch by size without waiting for the timer', async () => {
    const { hec, shipper } = await shipperFor([OK], { maxBatchBytes: 600, flushIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) shipper.write(line(`line ${i}`));
    await expect.poll(() => hec.received.length, { timeout: 5000 }).toBeGreaterThan(0);
    await shipper.flush();
    expect(hec.received.flatMap((r) => r.events.map((e) => e.event.msg))).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
    expect(Math.max(...hec.received.map((r) => JSON.stringify(r.events).length))).toBeLessThan(1200);
  });

  it('retries 503 / code 9 and network errors with backoff, then delivers everything once', async () => {
    const { hec, shipper, warnings } = await shipperFor([{ status: 503, body: { text: 'Server is busy', code: 9 } }, 'hang-up', OK]);
    shipper.write(line('a'));
    shipper.write(line('b'));
    await shipper.flush();
    expect(hec.received).toHaveLength(3);
    expect(hec.received.at(-1)!.events.map((e) => e.event.msg)).toEqual(['a', 'b']);
    expect(shipper.stats).toMatchObject({ shipped: 2, retries: 2, dropped: { rejected: 0, buffer_full: 0, stopped: 0 } });
    expect(warnings).toHaveLength(1); // once per outage, not per attempt
  });

  it('drops and counts the event HEC rejects (code 6 and its number), and sends the ones after it again', async () => {
    const { hec, shipper } = await shipperFor([{ status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 } }, OK]);
    for (const msg of ['a', 'bad', 'c']) shipper.write(line(msg));
    await shipper.flush();
    expect(hec.received.map((r) => r.events.map((e) => e.event.msg))).toEqual([['a', 'bad', 'c'], ['c']]);
    expect(shipper.stats).toMatchObject({ shipped: 2, dropped: { rejected: 1 } });
  });

  it('drops and counts a whole batch rejected (code 12) without an event number', async () => {
    const { shipper } = await shipperFor([{ status: 400, body: { text: 'Event field is required', code: 12 } }]);
    shipper.write(line('a'));
    shipper.write(line('b'));
    await shipper.flush();
    expect(shipper.stats).toMatchObject({ shipped: 0, dropped: { rejected: 2 }, stopped: false });
  });

  it.each([
    [403, 4, 'Invalid token'],
    [401, 2, 'Token is required'],
    [403, 1, 'Token disabled'],
    [400, 7, 'Incorrect index'],
  ])('stops shipping, loudly, when HEC answers %i code %i (%s); later lines are counted as dropped', async (status, code, text) => {
    const { hec, shipper, warnings } = await shipperFor([{ status, body: { text, code } }, OK]);
    shipper.write(line('a'));
    await shipper.flush();
    shipper.write(line('b'));
    await shipper.flush();
    expect(hec.received).toHaveLength(1);
    expect(shipper.stats).toMatchObject({ stopped: true, shipped: 0, dropped: { stopped: 2 } });
    expect(warnings.join('\n')).toMatch(/STOPPED/);
    expect(warnings.join('\n')).toContain(`code ${code}`);
  });

  it('holds a bounded buffer while HEC is away: the newest lines past it are dropped and counted, write never waits', async () => {
    const { shipper } = await shipperFor([{ status: 503, body: { text: 'Server is busy', code: 9 } }], { maxBufferBytes: 2000, flushIntervalMs: 5 });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) shipper.write(line(`line ${i}`));
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(100);
    expect(shipper.stats.buffered).toBeLessThan(100);
    expect(shipper.stats.buffered + shipper.stats.dropped.buffer_full).toBe(100);
  });

  it('close() flushes what is buffered (what the platform does on SIGTERM)', async () => {
    const { hec, shipper } = await shipperFor([OK], { flushIntervalMs: 60_000 });
    shipper.write(line('last words'));
    await shipper.close(2000);
    expect(hec.received.flatMap((r) => r.events.map((e) => e.event.msg))).toEqual(['last words']);
  });
});
