// fp-ts's Either as the parser builds and reads it: the same values (fp-ts's
// own left, right, isLeft and isRight are these four lines), without loading
// fp-ts/lib/Either.js, a CommonJS module that requires some twenty more. The
// intake thread loads the parser before it reads its first line, while the
// writer waits for that line's batch: fp-ts's Either was about half of the
// thread's module loading (40–80 ms of CPU of 90–115). Callers outside the
// parser go on reading its results with fp-ts, as the type is fp-ts's.
import type { Either, Left, Right } from 'fp-ts/lib/Either.js';

export type { Either };

export const left = <E, A = never>(e: E): Either<E, A> => ({ _tag: 'Left', left: e });
export const right = <A, E = never>(a: A): Either<E, A> => ({ _tag: 'Right', right: a });
export const isLeft = <E, A>(ma: Either<E, A>): ma is Left<E> => ma._tag === 'Left';
export const isRight = <E, A>(ma: Either<E, A>): ma is Right<A> => ma._tag === 'Right';
