// Feeds for the messaging tests: every kind of line file ingestion distinguishes,
// plus a busy feed for volume, and the reference result of ingesting them as files.
import { join } from 'node:path';
import { SqliteEventStore } from '../../eventstore/index.js';
import { FileIngestor, type FileIngestionSummary } from '../../ingestion/index.js';
import { formatHeader } from '../../ingestion/cx1/index.js';
import { alc, amd, cnf, corrupt, cxl, tempDir, trd, writeFeedFile, type FileSpec } from '../support/feed.js';
import { busyFeed } from '../support/scenarios.js';

/** Every outcome of a detail line: accepted, duplicate, INVALID_RECORD, SOURCE_MISMATCH, SEQUENCE_CONFLICT. */
export function edgeCaseFiles(): FileSpec[] {
  return [
    {
      name: 'CORE_EDGE_1.cx1',
      source: 'CORE',
      lines: [
        trd(900001, 'E1'),
        trd(900002, 'E2'),
        amd(900003, 'E1', 2, { quantity: 1500 }),
        cxl(900004, 'E2', 2, 'desk error'),
        corrupt(trd(900005, 'E5'), 48, 'XX'), // ISIN check digit: INVALID_RECORD
        alc(900006, 'E1', 'A1', 'FUND-1', 1500), // ALC from CORE: SOURCE_MISMATCH
        { raw: formatHeader({ source: 'CORE', businessDate: '2026-11-27', fileNumber: '2' }) }, // second header
        { raw: 'TOO SHORT' },
        { raw: '' }, // a blank line followed by more lines is a line
        trd(900001, 'E1'), // exact duplicate
        trd(900002, 'E2X'), // same sequence, other content: SEQUENCE_CONFLICT
        { raw: `XYZ${'0'.repeat(125)}` }, // unknown record type
        amd(900007, 'E1', 4, { quantity: 1500 }), // beyond a gap: pending
      ],
    },
    // An invalid trailer ends this file: after one, a file has no trailer, so a valid TRL further down
    // would be a rejected detail line, which a message stream (it has no trailers) words differently.
    { name: 'CORE_EDGE_2.cx1', source: 'CORE', lines: [trd(900001, 'E1'), trd(900008, 'E8', { quantity: 300 }), { raw: `TRL${'X'.repeat(125)}` }], trailer: 'missing' },
    {
      name: 'ALLOC_EDGE_1.cx1',
      source: 'ALLOC',
      lines: [
        alc(900001, 'E1', 'A1', 'FUND-1', 1500),
        alc(900002, 'E8', 'A1', 'FUND-2', 300),
        cnf(900003, 'E8', 300, '189.25'), // CNF from ALLOC: SOURCE_MISMATCH
        alc(900001, 'E1', 'A1', 'FUND-1', 1400), // SEQUENCE_CONFLICT
      ],
    },
    {
      name: 'CUSTODY_EDGE_1.cx1',
      source: 'CUSTODY',
      lines: [cnf(900001, 'E1', 1500, '189.25'), cnf(900002, 'E8', 300, '189.25'), corrupt(cnf(900003, 'E9', 1, '1'), 32, 'ZZ')],
      trailer: { recordCount: 9, controlTotal: 0n },
    },
  ];
}

export interface WrittenFeed {
  dir: string;
  /** In the order to ingest or publish them; the first file comes again at the end. */
  paths: string[];
}

export function writeTestFeed(busyTrades: number, busyFilesPerSource = 1): WrittenFeed {
  const dir = tempDir('kepler-amqp-feed-');
  const edge = edgeCaseFiles().map((spec) => writeFeedFile(dir, spec));
  const busy = busyFeed(busyTrades, busyFilesPerSource).map((spec) => writeFeedFile(dir, spec));
  return { dir, paths: [...edge, ...busy, edge[0]!] };
}

/** What file ingestion makes of the feed: the reference store (open) and the per-file summaries. */
export async function ingestAsFiles(feed: WrittenFeed): Promise<{ store: SqliteEventStore; summaries: FileIngestionSummary[] }> {
  const store = SqliteEventStore.open(join(tempDir('kepler-amqp-ref-'), 'events.db'));
  const ingestor = new FileIngestor(store);
  const summaries: FileIngestionSummary[] = [];
  for (const path of feed.paths) summaries.push(await ingestor.ingest(path));
  return { store, summaries };
}

export function totals(summaries: readonly FileIngestionSummary[]): { accepted: number; duplicates: number; rejected: number } {
  return summaries.reduce(
    (sum, s) => ({ accepted: sum.accepted + s.accepted, duplicates: sum.duplicates + s.duplicates, rejected: sum.rejected + s.rejected }),
    { accepted: 0, duplicates: 0, rejected: 0 },
  );
}
