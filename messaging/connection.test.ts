import { describe, expect, it } from 'vitest';
import { BrokerUnreachableError } from './connection.js';

/** An error as Node's TLS layer raises it: OpenSSL's line of internals, its reason and its code. */
function openSslError(code: string, reason: string): Error {
  return Object.assign(new Error(`80:error:0A000418:SSL routines:ssl3_read_bytes:${reason}:../deps/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 48\n`), { code, reason, library: 'SSL routines' });
}

describe('BrokerUnreachableError', () => {
  it('names the broker without its password, and keeps the cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5671'), { code: 'ECONNREFUSED' });
    const error = new BrokerUnreachableError('amqps://kepler:s3cret@broker:5671/prod', cause);
    expect(error.message).toBe('cannot open a connection to the broker at amqps://kepler:***@broker:5671/prod: connect ECONNREFUSED 127.0.0.1:5671');
    expect(error.message).not.toContain('s3cret');
    expect(error.cause).toBe(cause);
  });

  it.each([
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'sslv3 alert bad certificate'],
  ])('tells a broker that refused the client certificate (%s) in one line, with what to check', (code, reason) => {
    const message = new BrokerUnreachableError('amqps://broker', openSslError(code, reason)).message;
    expect(message).toBe(`cannot open a connection to the broker at amqps://broker: TLS: ${reason} (${code}) (the broker refused this client: amqp.tls.cert and amqp.tls.key must be a certificate and key signed by a CA the broker trusts)`);
  });

  it.each(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'])(
    'tells a broker certificate this client does not trust (%s), with what to check',
    (code) => {
      const message = new BrokerUnreachableError('amqps://broker', Object.assign(new Error('self-signed certificate in certificate chain'), { code })).message;
      expect(message).toMatch(/: self-signed certificate in certificate chain \(this client does not trust the broker's certificate: amqp\.tls\.ca must name the CA that signed it/);
    },
  );

  it('adds no TLS advice to an error that is not about TLS', () => {
    const message = new BrokerUnreachableError('amqp://broker', Object.assign(new Error('getaddrinfo ENOTFOUND broker'), { code: 'ENOTFOUND' })).message;
    expect(message).toBe('cannot open a connection to the broker at amqp://broker: getaddrinfo ENOTFOUND broker');
  });
});
