// Starts a throw-away FerretDB v1 (MongoDB wire protocol, SQLite backend, or PostgreSQL) for tests.
//
// The server is the tiny Go program in tests/ferretdb, built on demand by
// tests/ferretdb/build.sh (cached; the first build downloads Go modules and
// takes a couple of minutes). Each call starts its own server on a free
// loopback port with its own temporary data directory; stop() ends it and
// removes the directory. Combine with tests/support/servers.ts to skip or fail
// when it cannot be built or started.

import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FerretDbServer {
  /** MongoDB connection string, e.g. mongodb://127.0.0.1:41234/ */
  uri: string;
  /** Temporary SQLite data directory (removed by stop()). */
  dataDir: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and removes its data; idempotent. */
  stop(): Promise<void>;
}

export interface StartFerretDbOptions {
  /** How long to wait for the server to accept connections, after the build. Default 30 s. */
  startTimeoutMs?: number;
  /** How long the build may take. Default 15 min (a first build on a fresh machine takes ~2-4 min). */
  buildTimeoutMs?: number;
  /** FerretDB log level on stderr (debug, info, warn, error). Default warn. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Run on this PostgreSQL database (FerretDB's production backend) instead of SQLite files. */
  postgresqlUrl?: string;
  /**
   * Listen for TLS as well, with this server certificate and key; `uri` then names the TLS listener
   * (`?tls=true`). With `ca`, a client certificate signed by it is required (mutual TLS).
   */
  tls?: { cert: string; key: string; ca?: string };
}

const ferretDir = fileURLToPath(new URL('../ferretdb/', import.meta.url));
/** Path of the built server binary. */
export const FERRETDB_BINARY = join(ferretDir, 'bin', 'ferretdb');
const BUILD_SCRIPT = join(ferretDir, 'build.sh');

let building: Promise<string> | undefined;

/**
 * Builds the server binary if it is missing or stale (via build.sh) and returns
 * its path. Rejects with the build output when the build fails.
 */
export function buildFerretDb(timeoutMs = 15 * 60_000): Promise<string> {
  building ??= runBuild(timeoutMs).catch((err: unknown) => {
    building = undefined; // allow a later retry
    throw err;
  });
  return building;
}

function runBuild(timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { cwd: ferretDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`building FerretDB timed out after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${BUILD_SCRIPT}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(FERRETDB_BINARY);
      else reject(new Error(`building FerretDB failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}

/** Builds (if needed) and starts a FerretDB server; resolves once it accepts connections. */
export async function startFerretDb(options: StartFerretDbOptions = {}): Promise<FerretDbServer> {
  const binary = await buildFerretDb(options.buildTimeoutMs);
  const dataDir = await mkdtemp(join(tmpdir(), 'kepler-ferretdb-'));
  let child: ChildProcess | undefined;
  try {
    child = spawn(
      binary,
      [
        '-listen', '127.0.0.1:0', // the server binds a free port itself and reports it
        ...(options.postgresqlUrl ? ['-handler', 'postgresql', '-postgresql-url', options.postgresqlUrl] : ['-dir', join(dataDir, 'data')]),
        ...(options.tls ? ['-listen-tls', '127.0.0.1:0', '-tls-cert-file', options.tls.cert, '-tls-key-file', options.tls.key, ...(options.tls.ca ? ['-tls-ca-file', options.tls.ca] : [])] : []),
        '-log-level', options.logLevel ?? 'warn',
        '-exit-on-stdin-close', // dies with us even if we are SIGKILLed
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const uri = await waitForReady(child, options.startTimeoutMs ?? 30_000);
    await waitForTcp(uri, options.startTimeoutMs ?? 30_000);
    return makeHandle(child, uri, dataDir);
  } catch (err) {
    if (child) await terminate(child);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

function makeHandle(child: ChildProcess, uri: string, dataDir: string): FerretDbServer {
  // Best effort if the test process exits without calling stop().
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  return {
    uri,
    dataDir,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', killOnExit);
        await terminate(child);
        await rm(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** Waits for the "FERRETDB_READY <uri>" line on stdout. */
function waitForReady(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (err: Error | null, uri?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout?.removeListener('data', onStdout);
      if (err) reject(err);
      else resolve(uri!);
    };
    const onStdout = (chunk: Buffer): void => {
      stdout += chunk.toString('utf8');
      const m = /^FERRETDB_READY (\S+)\s*$/m.exec(stdout);
      if (m) finish(null, m[1]);
    };
    child.stdout?.on('data', onStdout);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
    });
    child.on('error', (err) => finish(new Error(`cannot start FerretDB: ${err.message}`)));
    child.on('exit', (code, signal) =>
      finish(new Error(`FerretDB exited before it was ready (${signal ?? `exit ${code}`}):\n${stderr.trim()}`)),
    );
    const timer = setTimeout(
      () => finish(new Error(`FerretDB was not ready within ${timeoutMs} ms:\n${stderr.trim()}`)),
      timeoutMs,
    );
  });
}

/** Polls until a TCP connection to the URI's host:port succeeds. */
async function waitForTcp(uri: string, timeoutMs: number): Promise<void> {
  const { hostname, port } = new URL(uri);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`FerretDB at ${uri} did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}
