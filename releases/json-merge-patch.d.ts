// json-merge-patch ships no types; these are the two functions Kepler uses.
declare module 'json-merge-patch' {
  /** RFC 7396: the target after the patch. Mutates and returns the target. */
  export function apply(target: unknown, patch: unknown): unknown;
  /** The merge patch that turns `before` into `after` (undefined when they are equal). */
  export function generate(before: unknown, after: unknown): unknown;
  const jsonMergePatch: { apply: typeof apply; generate: typeof generate };
  export default jsonMergePatch;
}
