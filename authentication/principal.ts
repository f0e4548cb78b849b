import type { JWTPayload } from 'jose';
import type { Actor } from '../eventstore/index.js';

/** The accounts a principal may see and act on: all of them, or those listed. */
export type Entitlements = { kind: 'all' } | { kind: 'accounts'; accounts: ReadonlySet<string> };

/** Who a valid token speaks for, and what it allows. */
export interface Principal {
  actor: Actor;
  scopes: ReadonlySet<string>;
  entitlements: Entitlements;
}

export const ALL_ACCOUNTS: Entitlements = { kind: 'all' };

/** The principal of a verified token's claims. */
export function principalOf(claims: JWTPayload, entitlementsClaim: string | null): Principal {
  const clientId = stringClaim(claims.client_id) ?? stringClaim(claims.azp);
  const name = stringClaim(claims.name) ?? stringClaim(claims.preferred_username);
  return {
    // A client-credentials token's subject is the client itself.
    actor: { subject: stringClaim(claims.sub) ?? clientId ?? 'unknown', ...(clientId !== undefined && { clientId }), ...(name !== undefined && { name }) },
    scopes: new Set([...listClaim(claims.scope), ...listClaim(claims.scp)]),
    entitlements: entitlementsClaim === null ? ALL_ACCOUNTS : entitlementsOf(claims[entitlementsClaim]),
  };
}

/**
 * The entitlements claim lists accounts, as an array or a space-separated string;
 * "*" entitles to every account. A token without the claim is entitled to none:
 * what is not granted is refused.
 */
function entitlementsOf(value: unknown): Entitlements {
  const accounts = listClaim(value);
  return accounts.includes('*') ? ALL_ACCOUNTS : { kind: 'accounts', accounts: new Set(accounts) };
}

/** `scope` is a space-separated string (RFC 8693); `scp` is an array in some providers and a string in others. */
function listClaim(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
