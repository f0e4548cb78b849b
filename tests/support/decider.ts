// The given/when/then harness for any pure decider: decide (or react) + evolve, folded in arrival order.
import * as E from 'fp-ts/lib/Either.js';

export interface Decider<Input, State, Event> {
  decide(input: Input, state: State): E.Either<{ code: string; message: string }, Event[]>;
  evolve(state: State, event: Event): State;
  initialState: State;
}

export function deciderHarness<Input, State, Event>(decider: Decider<Input, State, Event>) {
  const decideOrFail = (input: Input, state: State): Event[] => {
    const result = decider.decide(input, state);
    if (E.isLeft(result)) throw new Error(`refused: ${result.left.code} ${result.left.message}`);
    return result.right;
  };
  /** Folds decide + evolve over the inputs, in arrival order. */
  const run = (inputs: readonly Input[], from: State = decider.initialState): { state: State; events: Event[] } => {
    let state = from;
    const events: Event[] = [];
    for (const input of inputs) {
      const emitted = decideOrFail(input, state);
      events.push(...emitted);
      state = emitted.reduce(decider.evolve, state);
    }
    return { state, events };
  };
  const fold = (events: readonly Event[]): State => events.reduce(decider.evolve, decider.initialState);
  return { decideOrFail, run, fold };
}
