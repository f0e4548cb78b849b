// A feed consumer in its own process (a slot's ingestion role), for the crash tests. Runs the compiled
// code (npm run build). With KILL_AFTER_BATCHES=n it SIGKILLs itself once its
// n-th batch is durable in the event store and before that batch is acknowledged.
// Reports on stdout, one JSON object a line.
import { SqliteEventStore } from '../../dist/eventstore/index.js';
import { FeedConsumer } from '../../dist/messaging/index.js';

const { AMQP_URL, PREFIX, DB, CONNECTION_NAME, SLOT = 'blue' } = process.env;
const killAfter = Number(process.env.KILL_AFTER_BATCHES ?? 0);
const say = (report) => process.stdout.write(`${JSON.stringify(report)}\n`);

const store = SqliteEventStore.open(DB);
let batches = 0;
const consumer = new FeedConsumer({
  url: AMQP_URL,
  store,
  slot: SLOT,
  prefix: PREFIX,
  prefetch: 200,
  maxBatch: 100,
  connectionName: CONNECTION_NAME,
  backoff: { initialDelayMs: 50, maxDelayMs: 500 },
  onDurable: async (report) => {
    batches++;
    say({ event: 'durable', batch: batches, ...report });
    if (killAfter > 0 && batches >= killAfter) {
      // Let the acks of the earlier batches reach the socket, so the test knows exactly what was
      // acknowledged (an ack lost in a crash only means one more redelivery).
      await new Promise((resolve) => setTimeout(resolve, 50));
      // This batch is appended and durable, and not acknowledged: die here, as hard as a process can.
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
const running = consumer.run();
process.once('SIGTERM', async () => {
  await consumer.stop();
  await running;
  say({ event: 'stopped', status: consumer.status });
  await store.close();
  process.exit(0);
});
await consumer.whenConsuming();
say({ event: 'consuming' });
