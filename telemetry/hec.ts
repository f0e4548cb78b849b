// Log lines to a Splunk HTTP Event Collector, beside stderr.
//
// A pino destination: pino hands it each line, already JSON, and it returns at
// once. Lines wait in a bounded buffer and go out in batches (by size and by
// time) as HEC envelopes {time, host, source, sourcetype, index, event, fields}
// concatenated in one body, POST /services/collector/event with
// `Authorization: Splunk <token>`. Shipping never blocks the event loop and
// never takes the platform down:
//
// - 503 / code 9 (server busy), other 5xx and network errors: the batch is kept
//   and sent again after an exponential backoff with jitter;
// - code 6, 12 or 13 (a rejected event): HEC took the events before the one it
//   names (invalid-event-number), so that one is dropped and counted, and the
//   rest is sent again; without a number, the whole batch is dropped and counted;
// - codes 1–4 and 7 (token disabled, missing, invalid; wrong index): shipping
//   stops, loudly on stderr, and later lines are counted as dropped. Stderr
//   logging goes on.
// - a full buffer drops the newest lines, counted.
// On SIGTERM the platform flushes what is buffered (with a deadline) before exiting.
//
// Requests go through node:http(s) with a keep-alive agent, not fetch: the first
// fetch of a process loads and compiles undici and its WebAssembly HTTP parser,
// about 100–200 ms of CPU (measured, 2026-12-06), more than a whole ingest's
// shipping costs otherwise; node:http's parser is native and loaded already.
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { hostname } from 'node:os';

export interface HecOptions {
  /** The collector: https://splunk:8088 (the path /services/collector/event is added unless given). */
  url: string;
  token: string;
  index?: string;
  source?: string;
  sourcetype?: string;
  /** Low-cardinality indexed fields added to every event (service, environment, slot…); the level is added per line. */
  fields?: Record<string, string>;
  /** A batch is sent once it holds this many bytes (default 256 KiB), … */
  maxBatchBytes?: number;
  /** … or once its oldest line waited this long (default 1 s). */
  flushIntervalMs?: number;
  /** Bytes of lines held while HEC is away; past it the newest lines are dropped (default 16 MiB). */
  maxBufferBytes?: number;
  /** Backoff between retries: first and longest (default 500 ms, 30 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Per request (default 10 s). */
  requestTimeoutMs?: number;
  /** Where the loud messages go (default stderr). */
  warn?: (message: string) => void;
}

export type DropReason = 'rejected' | 'buffer_full' | 'stopped';

export interface HecStats {
  shipped: number;
  dropped: Record<DropReason, number>;
  /** Lines waiting to be sent. */
  buffered: number;
  /** Shipping stopped for good (the token or index was refused). */
  stopped: boolean;
  /** Requests that failed and were tried again. */
  retries: number;
}

/** HEC codes after which sending again cannot help: the token or the index is wrong. */
const AUTH_CODES = new Set([1, 2, 3, 4, 7]);
/** HEC codes that reject one event (its number given): drop it, keep the rest. */
const REJECTED_EVENT_CODES = new Set([6, 12, 13]);

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

interface HecAnswer {
  code?: number;
  text?: string;
  'invalid-event-number'?: number;
}

const shippers = new Set<HecShipper>();

/** Every shipper of this process (or thread): their figures, for /metrics. */
export function logShippers(): ReadonlySet<HecShipper> {
  return shippers;
}

export class HecShipper {
  readonly stats: HecStats = { shipped: 0, dropped: { rejected: 0, buffer_full: 0, stopped: 0 }, buffered: 0, stopped: false, retries: 0 };
  private readonly endpoint: string;
  private readonly url: URL;
  /** node:https (and TLS with it) is loaded only for an https collector. */
  private transport: Promise<{ agent: HttpAgent; request: (url: URL, options: RequestOptions, answer: (response: IncomingMessage) => void) => ClientRequest }> | null = null;
  private readonly envelopePrefix: string;
  private readonly fieldsPrefix: string;
  private readonly maxBatchBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferBytes: number;
  private readonly warn: (message: string) => void;
  private queue: string[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private abort = new AbortController();

  constructor(private readonly options: HecOptions) {
    const url = new URL(options.url);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/services/collector/event';
    this.endpoint = url.toString();
    this.url = url;
    const meta = {
      host: hostname(),
      source: options.source ?? 'kepler',
      sourcetype: options.sourcetype ?? '_json',
      ...(options.index && { index: options.index }),
    };
    // Everything but time, event and the level is the same for every line: serialised once.
    this.envelopePrefix = JSON.stringify(meta).slice(1, -1);
    this.fieldsPrefix = JSON.stringify(options.fields ?? {}).slice(0, -1);
    this.maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBufferBytes = options.maxBufferBytes ?? 16 * 1024 * 1024;
    this.warn = options.warn ?? ((message) => process.stderr.write(`kepler: ${message}\n`));
    shippers.add(this);
  }

  /** pino calls this with one JSON line (and its newline). Never throws, never waits. */
  write(line: string): void {
    if (this.stats.stopped || this.closed) {
      this.stats.dropped.stopped++;
      return;
    }
    const envelope = this.envelope(line);
    if (envelope === null) return;
    if (this.queuedBytes + envelope.length > this.maxBufferBytes) {
      this.stats.dropped.buffer_full++;
      return;
    }
    this.queue.push(envelope);
    this.queuedBytes += envelope.length;
    this.stats.buffered = this.queue.length;
    if (this.queuedBytes >= this.maxBatchBytes) this.schedule(0);
    else this.schedule(this.flushIntervalMs);
  }

  /** Sends everything buffered, retrying until done or until the deadline. */
  async flush(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && !this.stats.stopped && Date.now() < deadline) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      await this.send(deadline);
      if (this.queue.length > 0 && this.failures > 0) await sleep(Math.min(this.backoff(), Math.max(0, deadline - Date.now())));
    }
  }

  /** Flushes, then lets go: later lines are counted as dropped. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.flush(timeoutMs);
    this.closed = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stats.dropped.stopped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
    this.stats.buffered = 0;
    void this.transport?.then(({ agent }) => agent.destroy());
    shippers.delete(this);
  }

  private envelope(line: string): string | null {
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    if (text.length === 0) return null;
    // pino writes level and time first: read them without parsing the whole line.
    const head = /^\{"level":(\d+),"time":(\d+)/.exec(text);
    let level: string;
    let time: number;
    if (head) {
      level = LEVELS[Number(head[1])] ?? head[1]!;
      time = Number(head[2]);
    } else {
      try {
        const parsed = JSON.parse(text) as { level?: number | string; time?: number };
        level = typeof parsed.level === 'number' ? (LEVELS[parsed.level] ?? String(parsed.level)) : String(parsed.level ?? 'info');
        time = typeof parsed.time === 'number' ? parsed.time : Date.now();
      } catch {
        return null; // not a log line of ours
      }
    }
    const fields = this.fieldsPrefix === '{' ? `{"level":"${level}"}` : `${this.fieldsPrefix},"level":"${level}"}`;
    return `{"time":${(time / 1000).toFixed(3)},${this.envelopePrefix},"event":${text},"fields":${fields}}`;
  }

  private schedule(delayMs: number): void {
    if (this.sending) return; // the send in flight schedules the next one
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.send();
    }, delayMs);
    this.timer.unref();
  }

  /** One request with the oldest lines; settles the queue by HEC's answer. Never rejects. */
  private send(deadline?: number): Promise<void> {
    this.sending ??= this.sendBatch(deadline).finally(() => {
      this.sending = null;
      if (this.queue.length === 0 || this.stats.stopped || this.closed) return;
      this.schedule(this.failures > 0 ? this.backoff() : this.queuedBytes >= this.maxBatchBytes ? 0 : this.flushIntervalMs);
    });
    return this.sending;
  }

  private async sendBatch(deadline?: number): Promise<void> {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && (count === 0 || bytes + this.queue[count]!.length <= this.maxBatchBytes)) bytes += this.queue[count++]!.length;
    if (count === 0) return;
    const batch = this.queue.slice(0, count);
    const timeoutMs = Math.min(this.options.requestTimeoutMs ?? 10_000, deadline ? Math.max(1, deadline - Date.now()) : Infinity);
    let status: number;
    let answer: HecAnswer = {};
    try {
      let text: string;
      ({ status, text } = await this.post(batch.join(''), timeoutMs));
      try {
        answer = JSON.parse(text) as HecAnswer;
      } catch {
        answer = { text };
      }
    } catch (error) {
      this.retryLater(`cannot reach Splunk HEC at ${this.endpoint}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (status >= 200 && status < 300) return this.shipped(count);
    const code = answer.code;
    if (code !== undefined && AUTH_CODES.has(code)) return this.stop(status, answer);
    if (status === 401 || status === 403) return this.stop(status, answer);
    if (code !== undefined && REJECTED_EVENT_CODES.has(code)) return this.rejected(count, answer);
    if (status === 503 || status === 429 || status >= 500 || code === 9 || code === 8) {
      this.retryLater(`Splunk HEC answered ${status} (code ${code ?? '?'}: ${answer.text ?? ''}); retrying`);
      return;
    }
    // Any other refusal will not change on a retry: drop the batch, say so.
    this.drop(count, 'rejected');
    this.warn(`Splunk HEC refused ${count} log lines with ${status} (code ${code ?? '?'}: ${answer.text ?? ''}); they are dropped`);
  }

  /** One POST; rejects on a network error, the timeout, or close(). */
  private async post(body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    // One connection kept open: batches go one at a time (see send), so one is all a shipper uses.
    this.transport ??=
      this.url.protocol === 'https:'
        ? import('node:https').then((https) => ({ agent: new https.Agent({ keepAlive: true, maxSockets: 1 }), request: https.request }))
        : Promise.resolve({ agent: new HttpAgent({ keepAlive: true, maxSockets: 1 }), request: httpRequest });
    const { agent, request: send } = await this.transport;
    return new Promise((resolve, reject) => {
      const request = send(
        this.url,
        {
          method: 'POST',
          agent,
          headers: { authorization: `Splunk ${this.options.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.abort.signal]),
        },
        (response: IncomingMessage) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  private shipped(count: number): void {
    this.take(count);
    this.stats.shipped += count;
    this.failures = 0;
  }

  private rejected(count: number, answer: HecAnswer): void {
    const invalid = answer['invalid-event-number'];
    this.failures = 0;
    if (invalid === undefined || !Number.isInteger(invalid) || invalid < 0 || invalid >= count) {
      this.drop(count, 'rejected');
      return;
    }
    // HEC took the events before the invalid one; the ones after it are sent again.
    this.take(invalid);
    this.stats.shipped += invalid;
    this.drop(1, 'rejected');
  }

  private stop(status: number, answer: HecAnswer): void {
    this.stats.stopped = true;
    this.warn(
      `Splunk HEC refused the token or index (${status}, code ${answer.code ?? '?'}: ${answer.text ?? ''}): log shipping to ${this.endpoint} has STOPPED; ` +
        'logs still go to stderr. Check KEPLER_SPLUNK_HEC_TOKEN and KEPLER_SPLUNK_HEC_INDEX, then restart.',
    );
    this.drop(this.queue.length, 'stopped');
  }

  private retryLater(message: string): void {
    this.stats.retries++;
    // Said once per outage, not once per attempt.
    if (this.failures++ === 0) this.warn(message);
  }

  private backoff(): number {
    const initial = this.options.retryInitialMs ?? 500;
    const ceiling = Math.min(this.options.retryMaxMs ?? 30_000, initial * 2 ** Math.min(this.failures - 1, 16));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private drop(count: number, reason: DropReason): void {
    this.take(count);
    this.stats.dropped[reason] += count;
  }

  private take(count: number): void {
    for (const envelope of this.queue.splice(0, count)) this.queuedBytes -= envelope.length;
    this.stats.buffered = this.queue.length;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The shipper the KEPLER_SPLUNK_HEC_* variables ask for, or null. */
export function hecOptionsFromEnv(env: NodeJS.ProcessEnv, fields: Record<string, string>): HecOptions | null {
  const url = env.KEPLER_SPLUNK_HEC_URL?.trim();
  if (!url) return null;
  const token = env.KEPLER_SPLUNK_HEC_TOKEN?.trim();
  if (!token) throw new Error('KEPLER_SPLUNK_HEC_URL is set but KEPLER_SPLUNK_HEC_TOKEN is not');
  return {
    url,
    token,
    fields,
    ...(env.KEPLER_SPLUNK_HEC_INDEX && { index: env.KEPLER_SPLUNK_HEC_INDEX }),
    ...(env.KEPLER_SPLUNK_HEC_SOURCE && { source: env.KEPLER_SPLUNK_HEC_SOURCE }),
    ...(env.KEPLER_SPLUNK_HEC_SOURCETYPE && { sourcetype: env.KEPLER_SPLUNK_HEC_SOURCETYPE }),
  };
}
