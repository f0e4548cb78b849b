import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { holdTickObjectShape } from './tick-object-maps.js';

describe('holding the shape of process.nextTick entries', () => {
  it('holds a real queue entry: the callback and arguments under the names Node gives them', () => {
    const entry = holdTickObjectShape() as Record<PropertyKey, unknown> | undefined;
    // Undefined when Node no longer builds its queue entries so (or no longer reports them): the hold
    // then holds nothing, and this module should be looked at again.
    expect(entry).toBeDefined();
    expect(typeof entry!.callback).toBe('function');
    expect(Object.keys(entry!)).toEqual(['callback', 'args']);
    expect(Object.getOwnPropertySymbols(entry!).map((symbol) => symbol.description)).toEqual(['async_id_symbol', 'trigger_async_id_symbol']);
  });

  it('leaves ticks and other async hooks working as before', async () => {
    holdTickObjectShape();
    const seen: string[] = [];
    const other = createHook({ init: (_id, type) => void seen.push(type) }).enable();
    const ran = await new Promise<boolean>((resolve) => process.nextTick(() => resolve(true)));
    other.disable();
    expect(ran).toBe(true);
    expect(seen).toContain('TickObject');
  });
});
