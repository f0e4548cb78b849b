// TLS client settings of the stores whose clients take files: PEM files read for
// the MongoDB (and AMQP) clients, and EventStoreDB's connection-string parameters.
// PostgreSQL takes its TLS settings in its URL (libpq's sslmode and friends).
import { readFile } from 'node:fs/promises';
import type { TlsFiles } from './config.js';

/** A TLS file the configuration names and that cannot be read: which setting, which file, why. */
export class TlsFileError extends Error {
  constructor(setting: string, path: string, cause: unknown) {
    super(`${setting}: cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { cause });
    this.name = 'TlsFileError';
  }
}

/** The PEM files of a TLS client, read; `setting` names them in an error (`amqp.tls`, `readStore.tls`). */
export async function readTlsFiles(files: TlsFiles, setting: string): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  const read = async (which: keyof TlsFiles): Promise<Buffer | undefined> => {
    const path = files[which];
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new TlsFileError(`${setting}.${which}`, path, error);
    }
  };
  const [ca, cert, key] = await Promise.all([read('ca'), read('cert'), read('key')]);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
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
