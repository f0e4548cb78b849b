// Keeps the hidden classes of Node's `process.nextTick` queue entries alive for the life of the process.
//
// Node 20 builds each queue entry as `{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback,
// args }`. V8 gives that literal its shape one property at a time; the three intermediate shapes are
// held only weakly (by the transition tree and by the literal's inline caches), and no object ever keeps
// them once its literal is complete. A full garbage collection taken while the tick queue is empty frees
// them; the next entry then gets new shapes, the caches still name the freed ones, and V8 stops
// specialising the literal: every `nextTick` (Node's HTTP and stream code calls it several times per
// request: write completion, the request body's end, its dump) goes through the runtime's generic
// property definition. Measured in `serve` after start-up: 650-970 ns per `nextTick` against 35-65 ns
// with this; a `GET /trades/{ref}` calls it ten times, and its main-thread CPU fell by 6-10 %
// (BENCHMARKS.md, sixth session). The bench's small empty-route process was not seen to meet it.
//
// One real entry, held forever, keeps its complete shape alive, and through its back pointers the
// intermediate ones. It is taken from an async hook's `init`, enabled for that one `nextTick` only, so it
// is exactly the shape Node builds; it must run before the process allocates much (the first import of
// the CLI), while the caches still name live shapes.
import { createHook } from 'node:async_hooks';

const held: object[] = [];

/** Holds one `process.nextTick` queue entry for the life of the process; returns it (for the test). */
export function holdTickObjectShape(): object | undefined {
  let entry: object | undefined;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && entry === undefined) entry = resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(noop);
  } finally {
    hook.disable();
  }
  if (entry !== undefined) held.push(entry);
  return entry;
}

function noop(): void {}

holdTickObjectShape();
