// Which slot is live, which slots the broker routes to, which publish: one stream
// in the event store, the single source of truth that the reconciler, the gateway,
// the publishers and the processors all read. Each change is an event holding the
// whole routing, so the state is the last event and a reader never merges.
import type { Actor, EventStore, RecordedEvent } from '../eventstore/index.js';
import { deterministicId, WrongExpectedRevisionError } from '../eventstore/index.js';
import { SLOTS, type Slot } from '../messaging/index.js';

export const REGISTRY_STREAM = 'slot-registry';
export const SLOTS_CHANGED = 'SlotsChanged';

export interface SlotRouting {
  /** New trades start here, and the gateway sends queries here; null until a slot was made live. */
  live: Slot | null;
  /** Slots whose feed queue is bound to the feed exchange. */
  feed: readonly Slot[];
  /** Slots whose events exchange is bound to the integration events exchange. */
  events: readonly Slot[];
  /** Slots whose publisher publishes; null (nothing recorded yet) lets every publisher run, as before slots were recorded. */
  publishing: readonly Slot[] | null;
}

export interface SlotsChanged extends SlotRouting {
  type: typeof SLOTS_CHANGED;
  /** The cut-over (or rollback) step that made the change. */
  cutoverId: string | null;
  step: string | null;
}

export const INITIAL_ROUTING: SlotRouting = { live: null, feed: [], events: [], publishing: null };

export interface RegistryState {
  routing: SlotRouting;
  /** Revision of the registry stream; null while it does not exist. */
  revision: number | null;
  /** Every change of the live slot, in store order: processors decide "live at position p" from it. */
  liveHistory: ReadonlyArray<{ position: number; live: Slot | null }>;
  /** Where each slot's publisher was last switched on. */
  publishingSince: Partial<Record<Slot, number>>;
}

export const INITIAL_REGISTRY: RegistryState = { routing: INITIAL_ROUTING, revision: null, liveHistory: [], publishingSince: {} };

export function evolveRegistry(state: RegistryState, event: { data: unknown; position: number; revision: number }): RegistryState {
  const changed = event.data as SlotsChanged;
  const routing: SlotRouting = { live: changed.live, feed: changed.feed, events: changed.events, publishing: changed.publishing };
  const liveHistory = changed.live !== state.routing.live ? [...state.liveHistory, { position: event.position, live: changed.live }] : state.liveHistory;
  const publishingSince = { ...state.publishingSince };
  for (const slot of SLOTS) {
    const was = state.routing.publishing?.includes(slot) ?? false;
    if (!was && changed.publishing?.includes(slot)) publishingSince[slot] = event.position;
  }
  return { routing, revision: event.revision, liveHistory, publishingSince };
}

/** The live slot as of a position of the store: undefined while no slot was ever made live (any slot may then claim). */
export function liveAt(state: RegistryState, position: number): Slot | null | undefined {
  let live: Slot | null | undefined;
  for (const change of state.liveHistory) {
    if (change.position >= position) break;
    live = change.live;
  }
  return live;
}

/** The position from which `slot` has been live without a break, as of `position`; null when it is not live then. */
export function liveSince(state: RegistryState, slot: Slot, position: number): number | null {
  let since: number | null = null;
  for (const change of state.liveHistory) {
    if (change.position >= position) break;
    since = change.live === slot ? (since ?? change.position) : null;
  }
  return since;
}

export async function readRegistry(store: EventStore): Promise<RegistryState> {
  const events = await store.readStream(REGISTRY_STREAM);
  return events.reduce(evolveRegistry, INITIAL_REGISTRY);
}

export function isRegistryEvent(event: RecordedEvent): boolean {
  return event.stream === REGISTRY_STREAM && event.type === SLOTS_CHANGED;
}

/**
 * Records a change of the routing, expecting the registry at `expectedRevision`:
 * two operators changing slots at once cannot both win.
 */
export async function recordRouting(
  store: EventStore,
  routing: SlotRouting,
  context: { expectedRevision: number | null; cutoverId: string | null; step: string | null; actor?: Actor },
): Promise<{ position: number; revision: number }> {
  const data: SlotsChanged = { type: SLOTS_CHANGED, ...normalise(routing), cutoverId: context.cutoverId, step: context.step };
  const revision = context.expectedRevision === null ? 0 : context.expectedRevision + 1;
  try {
    const outcome = await store.append(
      REGISTRY_STREAM,
      [
        {
          id: deterministicId(REGISTRY_STREAM, revision),
          type: SLOTS_CHANGED,
          data,
          metadata: { correlationId: REGISTRY_STREAM, ...(context.actor && { actor: context.actor }) },
        },
      ],
      context.expectedRevision ?? 'no_stream',
    );
    return { position: outcome.position, revision: outcome.nextRevision };
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) throw new RegistryChangedError();
    throw error;
  }
}

export class RegistryChangedError extends Error {
  constructor() {
    super('the slot registry changed meanwhile (another cut-over?); look at `kepler slot status` and try again');
    this.name = 'RegistryChangedError';
  }
}

function normalise(routing: SlotRouting): SlotRouting {
  const sorted = (slots: readonly Slot[]) => SLOTS.filter((slot) => slots.includes(slot));
  return { live: routing.live, feed: sorted(routing.feed), events: sorted(routing.events), publishing: routing.publishing === null ? null : sorted(routing.publishing) };
}

/**
 * A process's view of the registry, read again at most every `maxAgeMs`: the
 * gateway, the command API, the publishers and the topology role use it.
 */
export class RegistryView {
  private cached: { state: RegistryState; at: number } | null = null;
  private reading: Promise<RegistryState> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly maxAgeMs = 250,
  ) {}

  async current(): Promise<RegistryState> {
    if (this.cached && Date.now() - this.cached.at < this.maxAgeMs) return this.cached.state;
    this.reading ??= readRegistry(this.store).then(
      (state) => {
        this.cached = { state, at: Date.now() };
        this.reading = null;
        return state;
      },
      (error: unknown) => {
        this.reading = null;
        throw error;
      },
    );
    return this.reading;
  }
}
