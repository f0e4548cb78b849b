import { describe, expect, it } from 'vitest';
import { shouldScavengeAlone } from './scavenges.js';

describe("serve's scavenges on one thread", () => {
  it('are asked for when Node was told nothing about them', () => {
    expect(shouldScavengeAlone([], undefined)).toBe(true);
    expect(shouldScavengeAlone(['--enable-source-maps'], '--max-old-space-size=2048')).toBe(true);
  });

  it("leave Node's own flag alone, on the command line or in NODE_OPTIONS, either way", () => {
    expect(shouldScavengeAlone(['--parallel-scavenge'], undefined)).toBe(false);
    expect(shouldScavengeAlone([], '--max-old-space-size=2048  --no-parallel-scavenge')).toBe(false);
    expect(shouldScavengeAlone(['--parallel_scavenge'], '')).toBe(false);
  });
});
