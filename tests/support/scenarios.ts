// A deterministic, realistic feed for the crash and concurrency tests: trades that book,
// amend, cancel and arrive with duplicates, split over several files per source.
import { Rng } from '../../bench/feed-generator.js';
import { alc, amd, cnf, cxl, trd, type FileSpec, type FeedLine } from './feed.js';

const ISINS = ['US0378331005', 'GB0002634946', 'DE0007164600'];

export function busyFeed(trades: number, filesPerSource: number, seed = 7): FileSpec[] {
  const rng = new Rng(seed);
  const random = () => rng.next();
  const core: FeedLine[] = [];
  const alloc: FeedLine[] = [];
  const custody: FeedLine[] = [];
  let coreSeq = 0;
  let allocSeq = 0;
  let custodySeq = 0;
  for (let n = 0; n < trades; n++) {
    const ref = `T${String(n).padStart(7, '0')}`;
    const isin = ISINS[n % ISINS.length]!;
    const side = random() < 0.5 ? 'BUY' : 'SELL';
    const quantity = 100 + Math.floor(random() * 900);
    const price = `${1 + Math.floor(random() * 500)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`;
    const t = { isin, side, quantity, price } as const;
    core.push(trd(++coreSeq, ref, t));
    let finalQuantity = quantity;
    const roll = random();
    if (roll < 0.15) {
      finalQuantity = quantity + 10;
      core.push(amd(++coreSeq, ref, 2, { ...t, quantity: finalQuantity }));
    } else if (roll < 0.2) {
      core.push(cxl(++coreSeq, ref, 2, 'cancelled by desk'));
    }
    const first = Math.floor(finalQuantity / 3);
    alloc.push(alc(++allocSeq, ref, 'A1', `FUND-${n % 5}`, first));
    alloc.push(alc(++allocSeq, ref, 'A2', `FUND-${(n + 1) % 5}`, finalQuantity - first));
    custody.push(cnf(++custodySeq, ref, finalQuantity, price, random() < 0.9 ? 'AFFIRMED' : 'REJECTED'));
    if (random() < 0.05) core.push(core[core.length - 1]!);
  }
  return [
    ...split('CORE', core, filesPerSource),
    ...split('ALLOC', alloc, filesPerSource),
    ...split('CUSTODY', custody, filesPerSource),
  ];
}

function split(source: 'CORE' | 'ALLOC' | 'CUSTODY', lines: FeedLine[], files: number): FileSpec[] {
  const size = Math.ceil(lines.length / files);
  return Array.from({ length: files }, (_, i) => ({
    name: `${source}_${String(i + 1).padStart(3, '0')}.cx1`,
    source,
    lines: lines.slice(i * size, (i + 1) * size),
  }));
}
