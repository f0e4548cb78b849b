import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe("a catching-up projection's hold, where read-your-writes requests cannot reach it", () => {
  const config = (env: NodeJS.ProcessEnv) => loadConfig({ dataDir: '/tmp/kepler-config-test' }, env);

  it('lasts at most half the requests’ wait in a process that runs projections without the query API', () => {
    expect(config({ KEPLER_ROLES: 'processors,projections' }).catchUpStalenessMs).toBe(2_500);
    expect(config({ KEPLER_ROLES: 'projections', KEPLER_READ_YOUR_WRITES_TIMEOUT_MS: '8000' }).catchUpStalenessMs).toBe(4_000);
  });

  it('keeps its own bound where the query API runs beside the projections, or where no projections run', () => {
    expect(config({}).catchUpStalenessMs).toBeUndefined();
    expect(config({ KEPLER_ROLES: 'projections,query-api' }).catchUpStalenessMs).toBeUndefined();
    expect(config({ KEPLER_ROLES: 'query-api' }).catchUpStalenessMs).toBeUndefined();
  });

  it('is what KEPLER_CATCHUP_STALENESS_MS says when it is set', () => {
    expect(config({ KEPLER_ROLES: 'projections', KEPLER_CATCHUP_STALENESS_MS: '10000' }).catchUpStalenessMs).toBeUndefined();
  });
});
