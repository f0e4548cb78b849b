import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { decide, evolve, initialApprovalState, versionExpected, type ApprovalCommand, type ApprovalEvent, type ApprovalRequested, type ApprovalState } from './index.js';

const maker = { subject: 'alice', clientId: 'desk-ui', name: 'Alice' };
const checker = { subject: 'bob' };
const third = { subject: 'carol' };
const request: ApprovalCommand = {
  type: 'RequestApproval',
  approvalId: 'A1',
  tradeRef: 'T1',
  account: 'ACC-1',
  action: { kind: 'cancel-trade', tradeRef: 'T1', reason: 'fat finger', version: 2 },
  scope: 'trades:cancel',
  requestedBy: maker,
};

/** Decides each command on the state the previous ones left, as the service does. */
function run(commands: ApprovalCommand[]): { state: ApprovalState; events: ApprovalEvent[]; last: ReturnType<typeof decide> } {
  let state = initialApprovalState;
  const events: ApprovalEvent[] = [];
  let last: ReturnType<typeof decide> = E.right([]);
  for (const command of commands) {
    last = decide(command, state);
    if (E.isRight(last)) {
      events.push(...last.right);
      state = last.right.reduce(evolve, state);
    }
  }
  return { state, events, last };
}

describe('approvals (maker–checker)', () => {
  it('records a request as pending; asking again the same is a retry', () => {
    const { state, events } = run([request, request]);
    expect(events.map((e) => e.type)).toEqual(['ApprovalRequested']);
    expect(state).toMatchObject({ status: 'PENDING', request: { requestedBy: maker, scope: 'trades:cancel' } });
    expect(run([request, { ...request, action: { kind: 'cancel-trade', tradeRef: 'T1', reason: 'other', version: 2 } }]).last).toMatchObject(E.left({ code: 'ALREADY_REQUESTED' }));
    expect(run([request, { ...request, action: { kind: 'resubmit-line', exceptionId: 'X1', line: 'L' } }]).last).toMatchObject(E.left({ code: 'ALREADY_REQUESTED' }));
  });

  it('a cancellation records the trade version its maker saw; a retry once the trade moved on is the same request, at the version first recorded', () => {
    const { state, events, last } = run([request, { ...request, action: { kind: 'cancel-trade', tradeRef: 'T1', reason: 'fat finger', version: 3 } }]);
    expect(last).toEqual(E.right([]));
    expect(events).toEqual([expect.objectContaining({ type: 'ApprovalRequested', action: { kind: 'cancel-trade', tradeRef: 'T1', reason: 'fat finger', version: 2 } })]);
    expect(versionExpected(state.request!.action)).toBe(2);
  });

  it('a request recorded before versions were is still read, and expects no version', () => {
    // As stored then: a cancel-trade action without its version.
    const old = JSON.parse(
      '{"type":"ApprovalRequested","approvalId":"A0","tradeRef":"T1","account":"ACC-1","action":{"kind":"cancel-trade","tradeRef":"T1","reason":"x"},"scope":"trades:cancel","requestedBy":{"subject":"alice"}}',
    ) as ApprovalRequested;
    const state = evolve(initialApprovalState, old);
    expect(state.status).toBe('PENDING');
    expect(versionExpected(state.request!.action)).toBeNull();
    expect(decide({ type: 'Approve', approvalId: 'A0', by: checker }, state)).toMatchObject(E.right([{ type: 'ApprovalGranted' }]));
    expect(versionExpected({ kind: 'resubmit-line', exceptionId: 'X1', line: 'L' })).toBeNull();
  });

  it('never lets the maker approve or reject their own request', () => {
    for (const verdict of [{ type: 'Approve', approvalId: 'A1', by: { subject: 'alice' } }, { type: 'Reject', approvalId: 'A1', by: maker, reason: 'x' }] as ApprovalCommand[]) {
      const { state, last } = run([request, verdict]);
      expect(last).toMatchObject(E.left({ code: 'SELF_APPROVAL' }));
      expect(state.status).toBe('PENDING');
    }
  });

  it('a second principal approves; the outcome is recorded once; a retry by the same checker changes nothing', () => {
    const approve: ApprovalCommand = { type: 'Approve', approvalId: 'A1', by: checker };
    const outcome: ApprovalCommand = { type: 'RecordOutcome', approvalId: 'A1', outcome: { status: 201, body: { tradeRef: 'T1', version: 3, position: 9 } } };
    const { state, events } = run([request, approve, approve, outcome, approve, outcome]);
    expect(events.map((e) => e.type)).toEqual(['ApprovalRequested', 'ApprovalGranted', 'ApprovalCarriedOut']);
    expect(state).toMatchObject({ status: 'CARRIED_OUT', decidedBy: checker, outcome: { status: 201 } });
  });

  it('a refusal is an outcome too: a cancellation that met a newer version is recorded as such and closes the request', () => {
    const conflict = { status: 409, body: { type: '/problems/version-conflict', currentVersion: 3 } };
    const { state, events } = run([request, { type: 'Approve', approvalId: 'A1', by: checker }, { type: 'RecordOutcome', approvalId: 'A1', outcome: conflict }]);
    expect(events.at(-1)).toEqual({ type: 'ApprovalCarriedOut', approvalId: 'A1', tradeRef: 'T1', outcome: conflict });
    expect(state).toMatchObject({ status: 'CARRIED_OUT', outcome: conflict });
    expect(run([request, { type: 'Approve', approvalId: 'A1', by: checker }, { type: 'RecordOutcome', approvalId: 'A1', outcome: conflict }, { type: 'Approve', approvalId: 'A1', by: third }]).last).toMatchObject(
      E.left({ code: 'ALREADY_DECIDED' }),
    );
  });

  it('an approval not carried out yet (its checker’s request was lost) is finished by another checker, who decides nothing new; never by its maker', () => {
    const approve = (by: typeof checker): ApprovalCommand => ({ type: 'Approve', approvalId: 'A1', by });
    const interrupted = run([request, approve(checker), approve(third)]);
    expect(interrupted.last).toEqual(E.right([]));
    expect(interrupted.events.map((e) => e.type)).toEqual(['ApprovalRequested', 'ApprovalGranted']);
    expect(interrupted.state).toMatchObject({ status: 'APPROVED', decidedBy: checker });
    expect(run([request, approve(checker), approve(maker)]).last).toMatchObject(E.left({ code: 'SELF_APPROVAL' }));
    // Once carried out, it is decided: the answer again for its checker, a refusal for anyone else.
    const outcome: ApprovalCommand = { type: 'RecordOutcome', approvalId: 'A1', outcome: { status: 201, body: null } };
    expect(run([request, approve(checker), outcome, approve(third)]).last).toMatchObject(E.left({ code: 'ALREADY_DECIDED' }));
  });

  it('what one checker decided, another cannot decide again', () => {
    expect(run([request, { type: 'Approve', approvalId: 'A1', by: checker }, { type: 'Reject', approvalId: 'A1', by: third, reason: 'no' }]).last).toMatchObject(E.left({ code: 'ALREADY_DECIDED' }));
    const rejected = run([request, { type: 'Reject', approvalId: 'A1', by: checker, reason: 'no' }, { type: 'Approve', approvalId: 'A1', by: third }]);
    expect(rejected.last).toMatchObject(E.left({ code: 'ALREADY_DECIDED' }));
    expect(rejected.state).toMatchObject({ status: 'REJECTED', decidedBy: checker });
    // Nothing is carried out unless approved.
    expect(run([request, { type: 'RecordOutcome', approvalId: 'A1', outcome: { status: 201, body: null } }]).last).toMatchObject(E.left({ code: 'NOT_APPROVED' }));
  });

  it('a decision on a request that does not exist is refused', () => {
    expect(decide({ type: 'Approve', approvalId: 'nope', by: checker }, initialApprovalState)).toMatchObject(E.left({ code: 'NOT_FOUND' }));
  });
});
