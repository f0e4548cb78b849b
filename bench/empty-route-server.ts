// The HTTP limit of the machine: a fastify route that answers a constant
// document, in a process of its own as `serve` is, on the host the bench loads
// `serve` on (the first argument). Prints its URL on stdout; stops on SIGTERM.
import Fastify from 'fastify';

const app = Fastify();
app.get('/', async () => ({ hello: 'world' }));
const url = await app.listen({ host: process.argv[2] ?? '127.0.0.1', port: 0 });
process.stdout.write(`${url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
