// node escaping-feed.mjs DIST DIR: a 200,000-line CORE file, a mixed generated feed, and a file whose lines need escaping.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
const [dist, dir] = process.argv.slice(2);
mkdirSync(`${dir}/mixed`, { recursive: true });
const { writeLargeFeed, generateFeed, writeFeed, MIXED_RATES } = await import(`${dist}/bench/feed-generator.js`);
const { formatDetail, overwriteColumns } = await import(`${dist}/ingestion/cx1/index.js`);
await writeLargeFeed(`${dir}/CORE_20261127_0000000001.cx1`, { lines: 200_000, seed: 7 });
const { FEED_SOURCES } = await import(`${dist}/domain/index.js`);
const paths = await writeFeed(generateFeed({ seed: 7, trades: 3000, filesPerSource: 2, refPrefix: 'M', firstSequence: Object.fromEntries(FEED_SOURCES.map((s) => [s, 500_001])), firstFileNumber: 10, rates: MIXED_RATES, badLines: { wrongLength: 3, badIsin: 3, badDate: 2, unknownType: 2 }, brokenTrailers: { wrongCount: 1 } }), `${dir}/mixed`);
// Lines that need escaping: a quote in the filler of every tenth line of one generated file, and values holding quotes and backslashes.
await writeLargeFeed(`${dir}/quoted.cx1`, { lines: 2000, seed: 9, firstSequence: 800_001, refPrefix: 'Q' });
const lines = readFileSync(`${dir}/quoted.cx1`, 'latin1').split('\n');
const plain = { account: 'ACC1', isin: 'GB0002634946', side: 'SELL', quantity: 25, price: '101.5', currency: 'EUR', tradeDate: '2026-11-27', settleDate: '2026-12-01', counterparty: 'CPTY' };
const extra = [
  { type: 'TRD', tradeRef: 'QX-1', version: 1, terms: { ...plain, account: 'A"C\\1', counterparty: 'C\\P"' } },
  { type: 'AMD', tradeRef: 'QX-1', version: 2, terms: { ...plain, account: 'A"C\\1', counterparty: 'C\\P"' } },
  { type: 'CXL', tradeRef: 'QX-1', version: 3, reason: 'said "no" \\ twice' },
].map((r, i) => formatDetail(900_001 + i, r));
const out = lines.map((line, i) => (i > 0 && i % 10 === 0 && line.length >= 128 && !line.startsWith('HDR') && !line.startsWith('TRL') ? overwriteColumns(line, 128, '"') : line));
out.splice(out.length - 2, 0, ...extra);
writeFileSync(`${dir}/mixed/CORE_20261127_0000000099.cx1`, out.join('\n'), 'latin1');
rmSync(`${dir}/quoted.cx1`);
console.log(paths.length, 'files');
