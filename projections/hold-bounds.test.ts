import { afterEach, describe, expect, it, vi } from 'vitest';

// CATCH_UP_HOLD reads its bounds once, when the module loads: each case loads it afresh.
describe("a catch-up's hold bounds from the environment", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('takes whole numbers', async () => {
    vi.stubEnv('KEPLER_CATCHUP_DOCUMENTS', '5000');
    vi.stubEnv('KEPLER_CATCHUP_STALENESS_MS', '2500');
    vi.stubEnv('KEPLER_CATCHUP_HEAD_GAP', '0');
    const { CATCH_UP_HOLD } = await import('./runner.js');
    expect([CATCH_UP_HOLD.documents, CATCH_UP_HOLD.ms, CATCH_UP_HOLD.headGap]).toEqual([5_000, 2_500, 0]);
  });

  it('refuses anything else, rather than a bound that is never reached', async () => {
    vi.stubEnv('KEPLER_CATCHUP_STALENESS_MS', '10s');
    await expect(import('./runner.js')).rejects.toThrow('KEPLER_CATCHUP_STALENESS_MS must be a whole number, not "10s"');
    vi.resetModules();
    vi.stubEnv('KEPLER_CATCHUP_STALENESS_MS', '');
    vi.stubEnv('KEPLER_CATCHUP_DOCUMENTS', '2e5');
    await expect(import('./runner.js')).rejects.toThrow('KEPLER_CATCHUP_DOCUMENTS must be a whole number, not "2e5"');
    vi.resetModules();
    vi.stubEnv('KEPLER_CATCHUP_DOCUMENTS', '');
    vi.stubEnv('KEPLER_CATCHUP_HEAD_GAP', '-1');
    await expect(import('./runner.js')).rejects.toThrow('KEPLER_CATCHUP_HEAD_GAP must be a whole number, not "-1"');
  });
});
