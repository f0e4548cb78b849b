import { describe, expect, it } from 'vitest';
import { atTurnEnd } from './turn-end-writes.js';

const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('atTurnEnd', () => {
  it('sends nothing during the turn, then every answer of the turn in the order given', async () => {
    const sent: string[] = [];
    const send = atTurnEnd((target: string, answer: number) => sent.push(`${target}:${answer}`), () => {});
    send('a', 1);
    send('b', 2);
    send('a', 3);
    expect(sent).toEqual([]);
    await turnEnd();
    expect(sent).toEqual(['a:1', 'b:2', 'a:3']);
    // The next turn's answers are sent at its own end, once each.
    send('c', 4);
    await turnEnd();
    expect(sent).toEqual(['a:1', 'b:2', 'a:3', 'c:4']);
  });

  it('sends the answers held at once when there are `atMost` of them, and the rest at the turn’s end', async () => {
    const sent: number[] = [];
    const send = atTurnEnd((_target: string, answer: number) => sent.push(answer), () => {}, 2);
    send('a', 1);
    expect(sent).toEqual([]);
    send('b', 2);
    expect(sent).toEqual([1, 2]);
    send('c', 3);
    expect(sent).toEqual([1, 2]);
    await turnEnd();
    expect(sent).toEqual([1, 2, 3]);
  });

  it('hands a send that throws to `failed` with its target, and still sends the others', async () => {
    const sent: string[] = [];
    const failed: Array<[string, unknown]> = [];
    const send = atTurnEnd(
      (target: string) => {
        if (target === 'bad') throw new Error('socket gone');
        sent.push(target);
      },
      (target, error) => failed.push([target, (error as Error).message]),
    );
    send('a', 0);
    send('bad', 0);
    send('b', 0);
    await turnEnd();
    expect(sent).toEqual(['a', 'b']);
    expect(failed).toEqual([['bad', 'socket gone']]);
  });
});
