// TLS client settings of the stores whose clients take files: PEM files read for
// the MongoDB (and AMQP) clients, and EventStoreDB's connection-string parameters.
// PostgreSQL takes its TLS settings in its URL (libpq's sslmode and friends).
import { readFile } from 'node:fs/promises';
import type { TlsFiles } from './config.js';

/** The PEM files of a TLS client, read. */
export async function readTlsFiles(files: TlsFiles): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  return {
    ...(files.ca !== undefined && { ca: await readFile(files.ca) }),
    ...(files.cert !== undefined && { cert: await readFile(files.cert) }),
    ...(files.key !== undefined && { key: await readFile(files.key) }),
  };
}

/** EventStoreDB takes its TLS files in the connection string (tlsCAFile, userCertFile, userKeyFile). */
export function esdbConnectionString(url: string, tls: TlsFiles | undefined): string {
  if (!tls) return url;
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set('tls', 'true');
  if (tls.ca !== undefined) params.set('tlsCAFile', tls.ca);
  if (tls.cert !== undefined) params.set('userCertFile', tls.cert);
  if (tls.key !== undefined) params.set('userKeyFile', tls.key);
  return `${base}?${params.toString()}`;
}
