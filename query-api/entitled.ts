import type { Entitlements } from '../authentication/index.js';
import { isEntitled } from '../authorization/index.js';
import type { ExceptionView, TradeView } from '../projections/index.js';
import type { Document, ReadStore, Where } from '../readstore/index.js';

/** Rows looked at for one page before answering with what was found and a cursor to go on from. */
const MAX_SCANNED_PER_PAGE = 10_000;
const SCAN_BATCH = 1000;

/**
 * An exception is seen by those entitled to its trade's account. One without a
 * trade, or whose trade names no account yet (a line too broken to name one, a
 * trailer mismatch, an allocation for a trade not captured), is seen only by
 * principals entitled to every account.
 */
async function entitledOnly(reads: ReadStore, trades: string, entitlements: Entitlements, rows: ReadonlyArray<{ doc: Document }>): Promise<ExceptionView[]> {
  const refs = [...new Set(rows.map(({ doc }) => (doc as unknown as ExceptionView).tradeRef).filter((ref): ref is string => ref !== null))];
  const found = refs.length > 0 ? await reads.getMany(trades, refs) : new Map<string, Document>();
  return rows
    .map(({ doc }) => doc as unknown as ExceptionView)
    .filter((exception) => {
      const trade = exception.tradeRef === null ? undefined : (found.get(exception.tradeRef) as TradeView | undefined);
      return isEntitled(entitlements, trade?.account ?? null);
    });
}

/**
 * A page of the exceptions a principal is entitled to. Rows are filtered as they
 * are read, so a page may hold fewer than `limit` items and still have a cursor:
 * `lastScanned` is where the next page starts, null at the end.
 */
export async function entitledExceptions(
  reads: ReadStore,
  exceptions: string,
  trades: string,
  entitlements: Entitlements,
  query: { where: Where; limit: number; afterId: string | null },
): Promise<{ items: ExceptionView[]; lastScanned: string | null }> {
  const items: ExceptionView[] = [];
  let afterId = query.afterId;
  let scanned = 0;
  for (;;) {
    const batch = Math.min(SCAN_BATCH, Math.max(query.limit - items.length, 100));
    const page = await reads.find(exceptions, { where: query.where, limit: batch, ...(afterId !== null && { afterId }) });
    const visible = await entitledOnly(reads, trades, entitlements, page);
    scanned += page.length;
    for (const [index, exception] of visible.entries()) {
      items.push(exception);
      if (items.length === query.limit) {
        // Stop at this item: the next page starts after it, whatever else this batch held.
        const more = index < visible.length - 1 || page.length === batch;
        return { items, lastScanned: more ? exception.id : null };
      }
    }
    if (page.length < batch) return { items, lastScanned: null };
    afterId = page.at(-1)!.id;
    if (scanned >= MAX_SCANNED_PER_PAGE) return { items, lastScanned: afterId };
  }
}

/** Exceptions by reason code, of those the principal is entitled to: read through, since entitlement is by trade. */
export async function entitledExceptionCounts(reads: ReadStore, exceptions: string, trades: string, entitlements: Entitlements): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let afterId: string | null = null;
  for (;;) {
    const page = await reads.find(exceptions, { limit: SCAN_BATCH, ...(afterId !== null && { afterId }) });
    for (const exception of await entitledOnly(reads, trades, entitlements, page)) counts[exception.code] = (counts[exception.code] ?? 0) + 1;
    if (page.length < SCAN_BATCH) return counts;
    afterId = page.at(-1)!.id;
  }
}
