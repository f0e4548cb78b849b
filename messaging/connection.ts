import { connect, type ChannelModel } from 'amqplib';
import { redactUrl } from '../eventstore/index.js';

// The URL without its password, for logs: the one the stores use.
export { redactUrl };

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
  try {
    return await connect(withHeartbeat(url), { clientProperties: { connection_name: name }, timeout: CONNECT_TIMEOUT_MS, ...tls });
  } catch (error) {
    throw new BrokerUnreachableError(url, error);
  }
}

/** A connection to the broker that could not be opened: which broker (without its password), why, and what to check. */
export class BrokerUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot open a connection to the broker at ${redactUrl(url)}: ${reasonOf(cause)}${tlsHint(cause)}`, { cause });
    this.name = 'BrokerUnreachableError';
  }
}

// OpenSSL's codes for a broker that refused this client's certificate (or its lack of one), and
// for a broker certificate this client does not trust: the two TLS mistakes an operator makes.
const REFUSED_BY_BROKER = /^ERR_SSL_(TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_BAD_CERTIFICATE|SSLV3_ALERT_CERTIFICATE_UNKNOWN|TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_HANDSHAKE_FAILURE|TLSV1_ALERT_ACCESS_DENIED)$/;
const UNTRUSTED_BROKER = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/** OpenSSL's own message is a line of internals (file, line, alert number); its reason is the part that tells. */
function reasonOf(error: unknown): string {
  const { reason, code } = (error ?? {}) as { reason?: unknown; code?: unknown };
  if (typeof reason === 'string' && typeof code === 'string' && code.startsWith('ERR_SSL_')) return `TLS: ${reason} (${code})`;
  return errorMessage(error).trim();
}

function tlsHint(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return '';
  if (REFUSED_BY_BROKER.test(code)) return ' (the broker refused this client: amqp.tls.cert and amqp.tls.key must be a certificate and key signed by a CA the broker trusts)';
  if (UNTRUSTED_BROKER.test(code)) return " (this client does not trust the broker's certificate: amqp.tls.ca must name the CA that signed it, and the certificate the URL's host)";
  return '';
}

function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(DEFAULT_HEARTBEAT_SECONDS));
  return parsed.toString();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
