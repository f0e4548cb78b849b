// How `serve` has V8 collect its young generation: on the thread that allocated it, alone.
//
// V8 scavenges with a job of up to one task per megabyte of new space plus one, spread over its platform's
// helper threads; the thread that allocated joins in and then waits for every task to end. `serve`'s
// main thread under the queries' load keeps almost nothing across a scavenge (about 12 KB of 1-2 MB,
// nothing promoted: BENCHMARKS.md, tenth session), so there is no work to share, and on two cores
// shared with the projections thread, the process's I/O and the clients, the wait for a helper thread
// to be scheduled is most of the pause, and every request in flight waits with it.
//
// The flag is the process's, not a thread's, and V8 reads it at each scavenge: the projections thread
// (and any other worker) scavenges alone too. Node's own flags win: one given on the command line or in
// NODE_OPTIONS (`--parallel-scavenge` to have V8's default back) is left as it is.
import { setFlagsFromString } from 'node:v8';

const FLAG = /^--(?:no-)?parallel[-_]scavenge$/;

/** Whether to set the flag: not when Node was told either way already. Pure, for the test. */
export function shouldScavengeAlone(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return !given.some((arg) => FLAG.test(arg));
}

/** Has this process's scavenges run on the allocating thread alone, unless Node was told otherwise. */
export function scavengeAlone(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS): boolean {
  if (!shouldScavengeAlone(execArgv, nodeOptions)) return false;
  setFlagsFromString('--no-parallel-scavenge');
  return true;
}
