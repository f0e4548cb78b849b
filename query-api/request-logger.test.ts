import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { requestLogger } from './request-logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  return { lines, logger: pino({ level: 'info', redact: ['token'] }, stream) };
}

describe("a request's logger, made on its first line", () => {
  it('writes what pino’s child writes: the request id, redaction, levels', () => {
    const { lines, logger } = capture();
    const child = vi.spyOn(logger, 'child');
    const log = requestLogger(logger, { reqId: 'req-7' }, {});
    log.debug('below the level');
    expect(child).not.toHaveBeenCalled();
    expect(log.level).toBe('info');
    log.warn({ token: 'secret', route: '/trades/:ref' }, 'refused');
    log.info('second');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toMatchObject([
      { level: 40, reqId: 'req-7', token: '[Redacted]', route: '/trades/:ref', msg: 'refused' },
      { level: 30, reqId: 'req-7', msg: 'second' },
    ]);
    log.child({ step: 'inner' }).error('failed');
    expect(lines.at(-1)).toMatchObject({ level: 50, reqId: 'req-7', step: 'inner', msg: 'failed' });
  });

  it('is pino’s child at once for a route with its own level', () => {
    const { lines, logger } = capture();
    requestLogger(logger, { reqId: 'req-8' }, { level: 'debug' }).debug('shown');
    expect(lines).toMatchObject([{ level: 20, reqId: 'req-8', msg: 'shown' }]);
  });
});
