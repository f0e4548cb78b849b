// A RabbitMQ node of the test's own, for tests that stop and start the broker: the
// machine's shared broker (other test files, other people) is never touched. Own node
// name, own ports (AMQP, management, distribution), own data and logs in a temp dir,
// its own Erlang cookie; stopped and removed at the end.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);
/** Debian's wrappers switch to the rabbitmq user; the scripts they wrap run as whoever calls them. */
const BIN = existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') ? '/usr/lib/rabbitmq/bin' : null;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class PrivateRabbit {
  private constructor(
    readonly node: string,
    readonly amqpUrl: string,
    readonly managementUrl: string,
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    /** With `tls`: amqps:// and https:// listeners that require a client certificate signed by the CA (mutual TLS). */
    readonly tlsUrls: { amqp: string; management: string } | null = null,
  ) {}

  /**
   * Starts a node; throws when it cannot (the caller applies the skip-or-fail policy). With `tls`
   * (PEM files: the CA, the server's certificate and key) it also listens for AMQP over TLS and for
   * the management API over HTTPS, both asking for a client certificate the CA signed.
   */
  static async start(options: { tls?: { ca: string; cert: string; key: string } } = {}): Promise<PrivateRabbit> {
    const server = BIN ? join(BIN, 'rabbitmq-server') : 'rabbitmq-server';
    const dir = mkdtempSync(join(tmpdir(), 'kepler-rabbit-'));
    const [amqp, management, dist] = [await freePort(), await freePort(), await freePort()];
    const secure = options.tls ? { amqps: await freePort(), https: await freePort(), ...options.tls } : null;
    const node = `kepler-test-${process.pid}-${randomBytes(3).toString('hex')}@localhost`;
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
    const tlsSettings = secure
      ? [
          `listeners.ssl.1 = 127.0.0.1:${secure.amqps}`,
          `ssl_options.cacertfile = ${secure.ca}`,
          `ssl_options.certfile = ${secure.cert}`,
          `ssl_options.keyfile = ${secure.key}`,
          'ssl_options.verify = verify_peer',
          'ssl_options.fail_if_no_peer_cert = true',
          `management.ssl.port = ${secure.https}`,
          'management.ssl.ip = 127.0.0.1',
          `management.ssl.cacertfile = ${secure.ca}`,
          `management.ssl.certfile = ${secure.cert}`,
          `management.ssl.keyfile = ${secure.key}`,
        ]
      : [];
    writeFileSync(join(dir, 'rabbitmq.conf'), [`listeners.tcp.1 = 127.0.0.1:${amqp}`, `management.tcp.port = ${management}`, 'management.tcp.ip = 127.0.0.1', ...tlsSettings, ''].join('\n'));
    writeFileSync(join(dir, '.erlang.cookie'), randomBytes(20).toString('hex'), { mode: 0o400 });
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('RABBITMQ_')));
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      HOME: dir, // the Erlang cookie of this node and of the CLI that talks to it
      RABBITMQ_NODENAME: node,
      RABBITMQ_DIST_PORT: String(dist),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    };
    const tlsUrls = secure && { amqp: `amqps://guest:guest@localhost:${secure.amqps}`, management: `https://guest:guest@localhost:${secure.https}` };
    const rabbit = new PrivateRabbit(node, `amqp://guest:guest@127.0.0.1:${amqp}`, `http://guest:guest@127.0.0.1:${management}`, dir, env, tlsUrls);
    try {
      await run(server, ['-detached'], { env, cwd: dir, timeout: 30_000 }); // a crash dump lands in its own directory
      await rabbit.awaitStartup();
      await rabbit.waitForManagement();
    } catch (error) {
      const logs = await rabbit.logTail();
      await rabbit.stop();
      throw new Error(`${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n${logs}`);
    }
    return rabbit;
  }

  /** The end of the node's log, to say why it did not start. */
  async logTail(): Promise<string> {
    const { readdir, readFile } = await import('node:fs/promises');
    try {
      const dir = join(this.dir, 'log');
      const texts = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.log')).map((f) => readFile(join(dir, f), 'utf8')));
      return texts.join('\n').split('\n').filter((l) => /error|crash|failed|eaddrinuse/i.test(l)).slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async ctl(...args: string[]): Promise<string> {
    const ctl = BIN ? join(BIN, 'rabbitmqctl') : 'rabbitmqctl';
    const { stdout } = await run(ctl, ['-n', this.node, ...args], { env: this.env, cwd: this.dir, timeout: 120_000 });
    return stdout;
  }

  /** `rabbitmqctl stop_app` then `start_app`: the broker application restarts, the node stays. */
  async restartApp(downMs = 0): Promise<void> {
    await this.ctl('stop_app');
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.ctl('start_app');
    await this.awaitStartup();
    await this.waitForManagement();
  }

  /** await_startup fails at once while the detached node has not registered with epmd yet: ask until it answers. */
  private async awaitStartup(): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        await this.ctl('await_startup', '--timeout', '60');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async waitForManagement(): Promise<void> {
    const url = new URL(this.managementUrl);
    const auth = `Basic ${Buffer.from(`${url.username}:${url.password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(new URL('/api/overview', url), { headers: { authorization: auth }, signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`the management API of ${this.node} did not answer`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    await this.ctl('stop').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
