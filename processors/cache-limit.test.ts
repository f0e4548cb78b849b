import { afterEach, describe, expect, it, vi } from 'vitest';

// The processors' cache size is read once, when the module loads: each case loads it afresh.
describe("the processors' cache size from the environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('takes a whole number', async () => {
    vi.stubEnv('KEPLER_PROCESSOR_CACHE', '5000');
    await expect(import('./processor.js')).resolves.toHaveProperty('ProcessorRunner');
  });

  it('refuses anything else, rather than a cache that is never trimmed', async () => {
    vi.stubEnv('KEPLER_PROCESSOR_CACHE', '5k');
    await expect(import('./processor.js')).rejects.toThrow('KEPLER_PROCESSOR_CACHE must be a whole number, not "5k"');
  });
});
