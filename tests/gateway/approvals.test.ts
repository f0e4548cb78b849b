// A four-eyes decision is carried out on the trade it concerns, so the gateway
// sends it to the slot that owns that trade: after a cut-over, a request made
// while blue owned the trade is still blue's to carry out until blue is drained
// (green would answer 421). The gateway's own routing, on a real event store;
// the two slots are stand-ins that record what reaches them (routing is all
// this test is about; the slots' own answers are tested elsewhere).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Approvals } from '../../domain/index.js';
import { SqliteEventStore } from '../../eventstore/index.js';
import { createGateway, type Gateway } from '../../gateway/index.js';
import { recordRouting, RegistryView, SLOT_CLAIMED } from '../../slots/index.js';

interface StandIn {
  server: Server;
  url: string;
  seen: string[];
}

async function standIn(slot: string): Promise<StandIn> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ slot }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('the gateway sends a four-eyes decision to the slot that owns its trade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kepler-gw-approvals-'));
  const store = SqliteEventStore.open(join(dir, 'events.db'));
  let blue: StandIn;
  let green: StandIn;
  let gateway: Gateway;

  beforeAll(async () => {
    [blue, green] = await Promise.all([standIn('blue'), standIn('green')]);
    await store.append('trade-T1', [{ id: 'c1', type: SLOT_CLAIMED, data: { type: SLOT_CLAIMED, tradeRef: 'T1', slot: 'blue' }, metadata: { correlationId: 'T1' } }], 'no_stream');
    const requested: Approvals.ApprovalRequested = { type: 'ApprovalRequested', approvalId: 'ap-1', tradeRef: 'T1', account: 'ACC-1', action: { kind: 'cancel-trade', tradeRef: 'T1', reason: 'x' }, scope: 'trades:cancel', requestedBy: { subject: 'maker' } };
    await store.append(Approvals.approvalStream('ap-1'), [{ id: 'a1', type: 'ApprovalRequested', data: requested, metadata: { correlationId: 'T1' } }], 'no_stream');
    // Cut over: green is live; blue still owns T1.
    await recordRouting(store, { live: 'green', feed: ['green'], events: ['green'], publishing: null }, { expectedRevision: null, cutoverId: null, step: null });
    gateway = await createGateway({ store, registry: new RegistryView(store, 0), upstreams: { blue: blue.url, green: green.url }, logger: pino({ level: 'silent' }) });
    await gateway.app.ready();
  });

  afterAll(async () => {
    await gateway?.app.close();
    for (const s of [blue, green]) s?.server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('approval and rejection of a request on a trade blue owns go to blue; one the store does not know goes to the live slot', async () => {
    for (const decision of ['approval', 'rejection']) {
      const answer = await gateway.app.inject({ method: 'POST', url: `/approvals/ap-1/${decision}` });
      expect(answer.headers['kepler-slot'], decision).toBe('blue');
    }
    expect(blue.seen).toEqual(['POST /approvals/ap-1/approval', 'POST /approvals/ap-1/rejection']);
    const unknown = await gateway.app.inject({ method: 'POST', url: '/approvals/nobody/approval' });
    expect(unknown.headers['kepler-slot']).toBe('green');
    expect(green.seen).toEqual(['POST /approvals/nobody/approval']);
  });
});
