// A private CA, a server certificate for localhost and 127.0.0.1, and a client
// certificate for mutual TLS, made with the machine's openssl: the tests of HTTPS
// and of TLS to the broker and MongoDB use real certificates, not switched-off checks.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  /** The CA's certificate (PEM): what clients and servers trust. */
  ca: string;
  /** The server's certificate and key (PEM), for localhost and 127.0.0.1. */
  cert: string;
  key: string;
  /** A client certificate and key (PEM) signed by the same CA, for servers that require one. */
  clientCert: string;
  clientKey: string;
  /** Another CA's client certificate and key: well formed, and not trusted by the servers. */
  strangerCert: string;
  strangerKey: string;
}

export function makeCertificates(dir: string): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const authority = (name: string, subject: string) =>
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path(`${name}.key`), '-out', path(`${name}.crt`), '-subj', subject, '-days', '2');
  const signed = (name: string, ca: string, subject: string, extensions: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject);
    writeFileSync(path(`${name}.cnf`), extensions);
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${ca}.crt`), '-CAkey', path(`${ca}.key`), '-CAcreateserial', '-out', path(`${name}.crt`), '-days', '2', '-extfile', path(`${name}.cnf`));
  };
  authority('ca', '/CN=Kepler Test CA');
  authority('stranger-ca', '/CN=Someone Else CA');
  signed('server', 'ca', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  signed('client', 'ca', '/CN=kepler', 'extendedKeyUsage=clientAuth\n');
  signed('stranger', 'stranger-ca', '/CN=kepler', 'extendedKeyUsage=clientAuth\n');
  return {
    ca: path('ca.crt'),
    cert: path('server.crt'),
    key: path('server.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
    strangerCert: path('stranger.crt'),
    strangerKey: path('stranger.key'),
  };
}
