/**
 * A whole-number setting read from text (an environment variable, a URL
 * parameter): undefined when it is not given, an error naming the setting when
 * it is not a whole number, so a typo never turns into a default in silence.
 */
export function wholeNumberSetting(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  // Digits only: Number() would read " " as 0, and "1e3" or "0x10" as numbers nobody wrote.
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number, not "${value}"`);
  return Number(value);
}
