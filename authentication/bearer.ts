/** RFC 6750 section 2.1: `Authorization: Bearer <token68>`. Null when the header holds no such token. */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  return match ? match[1]! : null;
}

/**
 * The WWW-Authenticate challenge of a 401 (RFC 6750 section 3): no error code when
 * no token was sent, `invalid_token` when one was and it is not good.
 */
export function bearerChallenge(realm: string, error?: { code: 'invalid_token' | 'invalid_request'; description: string }): string {
  const parts = [`realm="${realm}"`];
  if (error) parts.push(`error="${error.code}"`, `error_description="${error.description}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** The challenge of a 403 for want of a scope (RFC 6750 section 3.1). */
export function insufficientScopeChallenge(realm: string, scope: string): string {
  return `Bearer realm="${realm}", error="insufficient_scope", error_description="this request needs the scope ${scope}", scope="${scope}"`;
}
