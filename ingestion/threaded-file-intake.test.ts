import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { intakeWorkerOptions } from './threaded-file-intake.js';

/** What a thread started with `options` says of itself: its resource limits, and V8's heap limit. */
function startedWith(options: ReturnType<typeof intakeWorkerOptions>): Promise<{ limits: unknown; heapLimitMb: number }> {
  const source = `const { parentPort, resourceLimits } = require('node:worker_threads');
    parentPort.postMessage({ limits: resourceLimits, heapLimitMb: require('node:v8').getHeapStatistics().heap_size_limit / 2 ** 20 });`;
  const worker = new Worker(source, { ...options, eval: true });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { limits: unknown; heapLimitMb: number }) => void worker.terminate().then(() => resolve(message)));
    worker.once('error', reject);
  });
}

describe('the intake thread', () => {
  it('is started with its old generation capped at 512 MB, and a thread started so runs under that cap', async () => {
    const options = intakeWorkerOptions({ files: [], batchSize: 500, inFlight: 2 });
    expect(options.resourceLimits).toEqual({ maxOldGenerationSizeMb: 512 });
    expect(options.workerData).toEqual({ files: [], batchSize: 500, inFlight: 2 });
    const { limits, heapLimitMb } = await startedWith(options);
    expect(limits).toMatchObject({ maxOldGenerationSizeMb: 512 });
    // V8's whole heap limit: the old generation's 512 MB and the young generation's semi-spaces, far below the default (a quarter of the machine).
    expect(heapLimitMb).toBeGreaterThanOrEqual(512);
    expect(heapLimitMb).toBeLessThan(640);
  });
});
