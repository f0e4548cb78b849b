// CalVer for Kepler releases: YYYY.MDD.N, and YYYY.MDD.N-rc.K for the release
// candidates that precede release YYYY.MDD.N.
//
// The month and day form one unpadded number, month × 100 + day (5 December →
// 1205, 5 January → 105), because npm refuses semver with leading zeros. Since a
// day is below 100, that number grows with the date, so versions order as dates
// do. N counts the releases of one UTC day from 0; K counts the candidates of one
// release from 0. Every id is valid semver and semver precedence is the order.

export interface CalVer {
  year: number;
  month: number;
  day: number;
  /** The release's number within its UTC day. */
  n: number;
  /** The candidate's number within its release; null for the release itself. */
  rc: number | null;
}

export const CALVER_PATTERN = '^([1-9]\\d{3})\\.([1-9]\\d{2,3})\\.(0|[1-9]\\d*)(?:-rc\\.(0|[1-9]\\d*))?$';
const CALVER = new RegExp(CALVER_PATTERN);

export class CalVerError extends Error {
  override readonly name = 'CalVerError';
}

/** The CalVer of a text, or an error saying why it is not one. */
export function parseCalVer(text: string): CalVer {
  const match = CALVER.exec(text);
  if (!match) throw new CalVerError(`"${text}" is not a Kepler CalVer (YYYY.MDD.N or YYYY.MDD.N-rc.K, no leading zeros)`);
  const year = Number(match[1]);
  const monthDay = Number(match[2]);
  const month = Math.floor(monthDay / 100);
  const day = monthDay % 100;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new CalVerError(`"${text}" does not name a calendar day (${year}, month ${month}, day ${day})`);
  }
  return { year, month, day, n: Number(match[3]), rc: match[4] === undefined ? null : Number(match[4]) };
}

export function isCalVer(text: string): boolean {
  try {
    parseCalVer(text);
    return true;
  } catch {
    return false;
  }
}

export function formatCalVer(v: CalVer): string {
  return `${v.year}.${v.month * 100 + v.day}.${v.n}${v.rc === null ? '' : `-rc.${v.rc}`}`;
}

/** The YYYY.MDD part for a UTC day. */
export function dayPart(at: Date): string {
  return `${at.getUTCFullYear()}.${(at.getUTCMonth() + 1) * 100 + at.getUTCDate()}`;
}

/** Negative, zero or positive as a orders before, with or after b (semver precedence). */
export function compareCalVer(a: CalVer | string, b: CalVer | string): number {
  const x = typeof a === 'string' ? parseCalVer(a) : a;
  const y = typeof b === 'string' ? parseCalVer(b) : b;
  return (
    x.year - y.year ||
    x.month - y.month ||
    x.day - y.day ||
    x.n - y.n ||
    // A candidate precedes its release; candidates order by K.
    (x.rc ?? Number.MAX_SAFE_INTEGER) - (y.rc ?? Number.MAX_SAFE_INTEGER)
  );
}

export type CutKind = 'release' | 'rc';

/**
 * The id the next cut takes, given every id cut so far and the time of the cut.
 *
 * - A release cut takes the next N of the UTC day — or closes today's open
 *   candidate series: after 2026.1205.1-rc.0 and -rc.1, the release is 2026.1205.1.
 * - A candidate cut continues today's open series (-rc.K+1), or opens one for
 *   the next N (-rc.0).
 *
 * Refuses when the result would not be greater than every existing id (a clock
 * behind the last cut), so ids are strictly increasing whoever cuts them.
 */
export function nextCalVer(existing: readonly string[], at: Date, kind: CutKind): string {
  const today = dayPart(at);
  const parsed = existing.map(parseCalVer);
  const todays = parsed.filter((v) => `${v.year}.${v.month * 100 + v.day}` === today);
  const highest = todays.reduce<CalVer | null>((max, v) => (max === null || compareCalVer(v, max) > 0 ? v : max), null);
  const [year, monthDay] = today.split('.').map(Number) as [number, number];
  const base = { year, month: Math.floor(monthDay / 100), day: monthDay % 100 };
  // The open series: the highest id of the day is a candidate whose release has not been cut.
  const open = highest !== null && highest.rc !== null ? highest : null;
  let next: CalVer;
  if (kind === 'release') next = open ? { ...open, rc: null } : { ...base, n: highest === null ? 0 : highest.n + 1, rc: null };
  else next = open ? { ...open, rc: open.rc! + 1 } : { ...base, n: highest === null ? 0 : highest.n + 1, rc: 0 };
  const latest = parsed.reduce<CalVer | null>((max, v) => (max === null || compareCalVer(v, max) > 0 ? v : max), null);
  if (latest !== null && compareCalVer(next, latest) <= 0) {
    throw new CalVerError(`the clock says ${at.toISOString()}, which would cut ${formatCalVer(next)}, not after the latest id ${formatCalVer(latest)}`);
  }
  return formatCalVer(next);
}

/** The release a candidate id belongs to (the id itself for a release). */
export function releaseOf(id: string): string {
  return formatCalVer({ ...parseCalVer(id), rc: null });
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
