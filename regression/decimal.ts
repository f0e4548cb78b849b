// Decimal arithmetic for tolerances: decimal strings become scaled bigints, so
// "0.1" + "0.2" is exactly "0.3" and a tolerance never depends on binary floats.

export interface Scaled {
  /** The value times 10^scale. */
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/**
 * A decimal string ("123.45", "-0.001", "100") or a JSON integer to a scaled
 * bigint; null for anything else. A JSON number with a fraction is read from
 * its shortest decimal spelling, never computed with.
 */
export function parseDecimal(value: unknown): Scaled | null {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'bigint') return { units: value, scale: 0 };
  else return null;
  const match = DECIMAL.exec(text);
  if (!match) return null;
  const [, sign, integer, fraction = ''] = match;
  const units = BigInt(`${integer}${fraction}`);
  return { units: sign === '-' ? -units : units, scale: fraction.length };
}

function rescale(value: Scaled, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** a - b, exactly. */
export function subtract(a: Scaled, b: Scaled): Scaled {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) - rescale(b, scale), scale };
}

/** Compares |a| with |b|: -1, 0 or 1. */
export function compareMagnitude(a: Scaled, b: Scaled): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale);
  const x = abs(rescale(a, scale));
  const y = abs(rescale(b, scale));
  return x < y ? -1 : x > y ? 1 : 0;
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/** True when both values are decimals and |a - b| <= tolerance; null when either is not a decimal. */
export function withinTolerance(a: unknown, b: unknown, tolerance: Scaled): boolean | null {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x === null || y === null) return null;
  return compareMagnitude(subtract(x, y), tolerance) <= 0;
}

/** A scaled value back to a canonical decimal string ("1.5", "-0.01", "3"). */
export function formatDecimal(value: Scaled): string {
  const negative = value.units < 0n;
  const digits = abs(value.units).toString().padStart(value.scale + 1, '0');
  const integer = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${integer}${fraction ? `.${fraction}` : ''}`;
}
