// Policy for tests that need a real server (FerretDB, RabbitMQ, EventStoreDB, ...).
//
// Locally a missing server is not a failure: the tests that need it are skipped
// (with a warning saying why). In CI, which sets KEPLER_REQUIRE_SERVERS=1, a
// server that cannot be built or started is a failure, so a broken harness can
// never turn into a silently green run.
//
// Typical use in a test file (top-level await is fine in vitest ESM files):
//
//   const server = await tryStartServer('FerretDB', () => startFerretDb());
//   describe.skipIf(!server)('mongo read store', () => { ... });
//   afterAll(() => server?.stop());

/** Name of the environment variable that turns "skip" into "fail". */
export const REQUIRE_SERVERS_ENV = 'KEPLER_REQUIRE_SERVERS';

/** Thrown when a required server is unavailable and KEPLER_REQUIRE_SERVERS=1. */
export class ServerUnavailableError extends Error {
  override readonly name = 'ServerUnavailableError';
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    super(`${server} is unavailable and ${REQUIRE_SERVERS_ENV}=1 requires it: ${reason}`);
  }
}

/** True when servers are required (CI): KEPLER_REQUIRE_SERVERS is "1" (or "true"). */
export function serversRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[REQUIRE_SERVERS_ENV]?.trim().toLowerCase();
  return v === '1' || v === 'true';
}

/**
 * Reports that `name` cannot be used for `reason`. Throws ServerUnavailableError
 * when servers are required; otherwise warns on stderr and returns 'skip' so the
 * caller skips the tests that need the server.
 */
export function serverUnavailable(name: string, reason: string): 'skip' {
  if (serversRequired()) {
    throw new ServerUnavailableError(name, reason);
  }
  process.stderr.write(`[tests] skipping ${name} tests: ${reason} (set ${REQUIRE_SERVERS_ENV}=1 to fail instead)\n`);
  return 'skip';
}

/**
 * Runs `start`; on failure applies the policy: returns undefined (skip) locally,
 * throws ServerUnavailableError when servers are required.
 */
export async function tryStartServer<T>(name: string, start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (err) {
    serverUnavailable(name, describeError(err));
    return undefined;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A local port that was free a moment ago: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
