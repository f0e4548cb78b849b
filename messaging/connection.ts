import { connect, type ChannelModel } from 'amqplib';

// The URL without its password, for logs: the one the stores use.
export { redactUrl } from '../eventstore/index.js';

/** TLS of an amqps:// connection: the CA to trust, and a client certificate and key where the broker asks for one. */
export interface AmqpTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Heartbeat asked for when the URL names none: a dead broker or link is noticed within ~2 intervals. */
const DEFAULT_HEARTBEAT_SECONDS = 15;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a connection named `name` (shown by the management UI and usable to
 * find and close it). Heartbeats default to 15 s unless the URL sets them.
 */
export async function openConnection(url: string, name: string, tls?: AmqpTls): Promise<ChannelModel> {
  return connect(withHeartbeat(url), { clientProperties: { connection_name: name }, timeout: CONNECT_TIMEOUT_MS, ...tls });
}

function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(DEFAULT_HEARTBEAT_SECONDS));
  return parsed.toString();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
