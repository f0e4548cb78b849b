// Promotion windows: recurring allow and deny periods (RFC 5545 recurrence
// rules in a named time zone, so 09:00 stays 09:00 local across a DST change),
// and the ad-hoc freezes operators place. A deny wins over an allow.
import { RRuleTemporal } from 'rrule-temporal';
import type { Window } from './schemas.js';

export interface Freeze {
  until: string | null;
  reason: string;
  by: string;
}

export type WindowState =
  | { state: 'open'; reason: string }
  | { state: 'denied'; reason: string; until: string | null }
  | { state: 'closed'; reason: string; opensAt: string | null };

interface DurationParts {
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export function parseDuration(text: string): DurationParts {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) throw new Error(`"${text}" is not a duration such as PT2H or P1DT12H`);
  return { days: Number(match[1] ?? 0), hours: Number(match[2] ?? 0), minutes: Number(match[3] ?? 0), seconds: Number(match[4] ?? 0) };
}

/** The duration in milliseconds, a day counted as 24 hours (for soak times, which are elapsed time). */
export function durationMs(text: string): number {
  const d = parseDuration(text);
  return (((d.days * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds) * 1000;
}

function ruleOf(window: Window): RRuleTemporal {
  const [date, time] = window.start.split('T') as [string, string];
  const [hh, mm, ss = '00'] = time.split(':');
  const dtstart = `${date.replaceAll('-', '')}T${hh}${mm}${ss}`;
  return new RRuleTemporal({ rruleString: `DTSTART;TZID=${window.timeZone}:${dtstart}\nRRULE:${window.rrule}` });
}

/** Why a window cannot be used; null when it can. */
export function checkWindow(window: Window): string | null {
  try {
    new Intl.DateTimeFormat('en', { timeZone: window.timeZone });
  } catch {
    return `unknown time zone ${window.timeZone}`;
  }
  try {
    parseDuration(window.duration);
    ruleOf(window).next(new Date(Date.UTC(2000, 0, 1)));
    return null;
  } catch (error) {
    return `rule does not parse: ${(error as Error).message}`;
  }
}

/** The occurrence of the window that contains `at`, as [start, end) instants; null when none does. */
export function occurrenceAt(window: Window, at: Date): { start: Date; end: Date } | null {
  const rule = ruleOf(window);
  const duration = parseDuration(window.duration);
  // An occurrence that started up to one duration (plus a day for DST) ago may still be running.
  const lookback = new Date(at.getTime() - durationMs(window.duration) - 86_400_000);
  const starts = rule.between(lookback, at, true);
  for (const start of starts.reverse()) {
    const end = start.add(duration);
    if (start.epochMilliseconds <= at.getTime() && at.getTime() < end.epochMilliseconds) {
      return { start: new Date(start.epochMilliseconds), end: new Date(end.epochMilliseconds) };
    }
  }
  return null;
}

export function nextStart(window: Window, after: Date): Date | null {
  const next = ruleOf(window).next(after, false);
  return next ? new Date(next.epochMilliseconds) : null;
}

/**
 * Where `at` stands: inside a freeze or a deny window (denied), outside every
 * allow window when there are some (closed), or open.
 */
export function windowState(windows: readonly Window[], freeze: Freeze | null, at: Date): WindowState {
  if (freeze && (freeze.until === null || at.getTime() < Date.parse(freeze.until))) {
    return { state: 'denied', reason: `frozen by ${freeze.by}${freeze.until ? ` until ${freeze.until}` : ''}: ${freeze.reason}`, until: freeze.until };
  }
  for (const window of windows.filter((w) => w.kind === 'deny')) {
    const hit = occurrenceAt(window, at);
    if (hit) return { state: 'denied', reason: `inside the deny window ${label(window)} until ${hit.end.toISOString()}`, until: hit.end.toISOString() };
  }
  const allows = windows.filter((w) => w.kind === 'allow');
  if (allows.length === 0) return { state: 'open', reason: 'no windows restrict this environment' };
  for (const window of allows) {
    const hit = occurrenceAt(window, at);
    if (hit) return { state: 'open', reason: `inside the window ${label(window)} until ${hit.end.toISOString()}` };
  }
  const opens = allows.map((w) => nextStart(w, at)).filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0] ?? null;
  return {
    state: 'closed',
    reason: `outside every allow window (${allows.map(label).join(', ')})${opens ? `; the next opens at ${opens.toISOString()}` : ''}`,
    opensAt: opens?.toISOString() ?? null,
  };
}

function label(window: Window): string {
  return window.name ? `"${window.name}"` : `${window.rrule} from ${window.start} ${window.timeZone} for ${window.duration}`;
}
