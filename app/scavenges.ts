// How `serve` has V8 collect its young generation: in parallel while its followers catch up, on the
// allocating thread alone once they are at the head.
//
// V8 scavenges with a job of up to one task per megabyte of new space plus one, spread over its platform's
// helper threads; the thread that allocated joins in and then waits for every task to end. At the head,
// under the queries' load, `serve`'s main thread keeps about 15 KB of a 1.7 MB young generation across a
// scavenge and promotes nothing (BENCHMARKS.md, tenth session): there is no work to share, and on two
// cores shared with the projections thread, the process's I/O and the clients, the wait for a helper
// thread to be scheduled is most of the pause, which every request in flight waits out. In a catch-up a
// scavenge keeps megabytes (the processors' and projections' states on their way to the old generation),
// and there the helpers take work off the two busy threads: alone, the main thread's CPU rose by 11 %.
//
// The flag is the process's, not a thread's, and V8 reads it at each scavenge; the projections thread (and
// any other worker) follows it too. Node's own flags win: with one given on the command line or in
// NODE_OPTIONS, either way, `serve` leaves it as it is.
import { setFlagsFromString } from 'node:v8';

/** A follower further behind the head than this many events is catching up. */
export const CATCHING_UP_EVENTS = 10_000;

/** How often the followers' gaps are looked at. */
const LOOK_EVERY_MS = 1_000;

const FLAG = /^--(?:no-)?parallel[-_]scavenge$/;

/** Whether `serve` may choose: not when Node was told either way already. */
export function mayChooseScavenges(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return !given.some((arg) => FLAG.test(arg));
}

/** Alone at the head; in parallel while some follower catches up. */
export function scavengeAlone(gaps: readonly { gapEvents: number }[]): boolean {
  return gaps.every((gap) => gap.gapEvents <= CATCHING_UP_EVENTS);
}

/**
 * Looks at the followers' gaps every second and sets V8's flag when the answer changes; returns the
 * way to stop. A status that cannot be read leaves the flag as it was.
 */
export function followScavenges(
  gaps: () => Promise<readonly { gapEvents: number }[]>,
  options: { execArgv?: readonly string[]; nodeOptions?: string | undefined; set?: (flag: string) => void; everyMs?: number } = {},
): () => void {
  if (!mayChooseScavenges(options.execArgv ?? process.execArgv, 'nodeOptions' in options ? options.nodeOptions : process.env.NODE_OPTIONS)) return () => {};
  const set = options.set ?? setFlagsFromString;
  let alone: boolean | null = null;
  let looking = false;
  const look = async () => {
    if (looking) return;
    looking = true;
    try {
      const now = scavengeAlone(await gaps());
      if (now !== alone) set(now ? '--no-parallel-scavenge' : '--parallel-scavenge');
      alone = now;
    } catch {
      // The store may be away for a moment: readiness says so; the scavenges stay as they were.
    } finally {
      looking = false;
    }
  };
  void look();
  const timer = setInterval(() => void look(), options.everyMs ?? LOOK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
