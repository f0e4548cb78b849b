/**
 * `JSON.parse(JSON.stringify(value))` for the values events are made of, without the text between:
 * plain objects, arrays, strings, numbers, booleans and null, an object's keys whose value is
 * undefined left out. What a store's follower would get by decoding the JSON an append wrote, built
 * from the appended values themselves (about half the instructions of parsing the text back,
 * and new objects: nothing shared with the writer).
 *
 * Anything whose JSON is not spelt out here (a Date or any other toJSON, a class instance, a Map, a
 * bigint, an array holding undefined, a `__proto__` key, which JSON.parse makes an own property and an
 * assignment would not) gives NOT_COPIED, and the caller decodes the text instead.
 */
export const NOT_COPIED: unique symbol = Symbol('not copied');

export function jsonCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON writes NaN and the infinities as null, and -0 as 0.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'object':
      if (value === null) return null;
      return Array.isArray(value) ? copyArray(value) : copyObject(value);
    default:
      return NOT_COPIED;
  }
}

function copyArray(array: readonly unknown[]): unknown {
  const copy: unknown[] = new Array(array.length);
  for (let i = 0; i < array.length; i++) {
    const element = array[i];
    // undefined (or a hole) is null in an array's JSON: rare enough to leave to the text.
    if (element === undefined) return NOT_COPIED;
    const copied = jsonCopy(element);
    if (copied === NOT_COPIED) return NOT_COPIED;
    copy[i] = copied;
  }
  return copy;
}

function copyObject(object: object): unknown {
  // A plain object, or one without a prototype (JSON.parse's own are plain, and so is the copy).
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) return NOT_COPIED;
  const copy: Record<string, unknown> = {};
  // Object.keys gives the keys in the order JSON.stringify writes them, and assigning them in that
  // order gives the copy the order JSON.parse would (integer-like keys first, as in both).
  const keys = Object.keys(object);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const member = (object as Record<string, unknown>)[key];
    if (member === undefined) continue;
    if (key === '__proto__') return NOT_COPIED;
    const copied = jsonCopy(member);
    if (copied === NOT_COPIED) return NOT_COPIED;
    copy[key] = copied;
  }
  return copy;
}
