import type { Entitlements, Principal } from '../authentication/index.js';
import { ALL_ACCOUNTS } from '../authentication/index.js';

/**
 * What a request may see and act on. Without a principal (authentication off)
 * everything, as before authentication existed.
 */
export function entitlementsOf(principal: Principal | null): Entitlements {
  return principal?.entitlements ?? ALL_ACCOUNTS;
}

/**
 * Whether an account is within the entitlements. A thing without an account (a
 * trade known only from its allocations, a line too broken to name one) is for
 * principals entitled to every account only.
 */
export function isEntitled(entitlements: Entitlements, account: string | null | undefined): boolean {
  if (entitlements.kind === 'all') return true;
  return account !== null && account !== undefined && entitlements.accounts.has(account);
}

/**
 * The accounts a query may return, narrowed by the one it asks for: undefined
 * for no restriction, a list (possibly empty: nothing to return) otherwise.
 */
export function accountsWhere(entitlements: Entitlements, asked: string | undefined): string | readonly string[] | undefined {
  if (entitlements.kind === 'all') return asked;
  if (asked !== undefined) return entitlements.accounts.has(asked) ? asked : [];
  return [...entitlements.accounts].sort();
}
