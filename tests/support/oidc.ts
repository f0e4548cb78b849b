// A real OpenID provider in the test process (oidc-provider, a certified
// implementation): clients get JWT access tokens for Kepler's audience with the
// client-credentials grant, as machine clients do in production. Tests also sign
// tokens with its key by hand, to send what a provider never would (expired,
// foreign audience, another issuer), and rotate its key.
import type { webcrypto } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { OPERATION_SCOPES, SCOPES } from '../../authorization/index.js';

export const AUDIENCE = 'https://kepler.test/api';
export const ALL_SCOPES = Object.keys(SCOPES);
/** The CLI operations' scopes (not the APIs'): a client gets them when it asks by name. */
export const OPERATOR_SCOPES = Object.keys(OPERATION_SCOPES);
const GRANTABLE = [...ALL_SCOPES, ...OPERATOR_SCOPES];

export interface TestClient {
  id: string;
  /** The scopes the client may ask for; all of Kepler's when absent. */
  scopes?: readonly string[];
  /** The entitlements claim (kepler_accounts); absent: the claim is left out. */
  accounts?: readonly string[];
  /** A display name, as a person's token would carry. */
  name?: string;
}

interface SigningKey {
  kid: string;
  privateKey: webcrypto.CryptoKey;
  jwk: JWK;
}

export class TestIdentityProvider {
  private provider!: Provider;
  private key!: SigningKey;
  /** Every token endpoint call, so a test can see the provider was used. */
  tokensIssued = 0;
  /** Fetches of the key set: how a test sees the floor on refetches. */
  keySetFetches = 0;
  /** While false, every request is answered 503: an identity provider that is down. */
  up = true;

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    private readonly clients: readonly TestClient[],
    readonly audience: string,
  ) {}

  static async start(clients: readonly TestClient[], audience = AUDIENCE): Promise<TestIdentityProvider> {
    let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
    const server = createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const idp = new TestIdentityProvider(server, issuer, clients, audience);
    await idp.rotate();
    handle = (req, res) => {
      if (!idp.up) {
        res.writeHead(503).end();
        return;
      }
      if (req.url?.startsWith('/jwks')) idp.keySetFetches++;
      idp.provider.callback()(req, res);
    };
    return idp;
  }

  /** A new signing key with a new kid; the old key leaves the provider's key set. */
  async rotate(): Promise<void> {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = `key-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
    this.key = { kid, privateKey, jwk };
    this.provider = this.build();
  }

  get kid(): string {
    return this.key.kid;
  }

  /** A client-credentials access token from the token endpoint, as a machine client gets one. */
  async token(clientId: string, scopes?: readonly string[]): Promise<string> {
    const client = this.client(clientId);
    const body = new URLSearchParams({ grant_type: 'client_credentials', resource: this.audience, scope: (scopes ?? client.scopes ?? ALL_SCOPES).join(' ') });
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secretOf(clientId)}`).toString('base64')}` },
      body,
    });
    const answer = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!response.ok || !answer.access_token) throw new Error(`token endpoint: ${response.status} ${answer.error}: ${answer.error_description}`);
    this.tokensIssued++;
    return answer.access_token;
  }

  /**
   * A token signed by hand with the provider's own key (or another), with the
   * claims and header a test wants: what a real provider would never issue.
   */
  async forge(claims: JWTPayload, options: { header?: Record<string, unknown>; key?: webcrypto.CryptoKey; kid?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, aud: this.audience, sub: 'forger', iat: now, exp: now + 300, scope: ALL_SCOPES.join(' '), ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: options.kid ?? this.key.kid, ...options.header })
      .sign(options.key ?? this.key.privateKey);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private client(id: string): TestClient {
    const client = this.clients.find((c) => c.id === id);
    if (!client) throw new Error(`no test client ${id}`);
    return client;
  }

  private build(): Provider {
    const { audience } = this;
    const provider = new Provider(this.issuer, {
      clients: this.clients.map((client) => ({
        client_id: client.id,
        client_secret: secretOf(client.id),
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: GRANTABLE.join(' '),
      })),
      jwks: { keys: [this.key.jwk as never] },
      scopes: GRANTABLE,
      cookies: { keys: ['tests-only-cookie-key'] },
      ttl: { ClientCredentials: 300 },
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => {
            if (resource !== audience) throw new Error(`unknown resource ${resource}`);
            return { scope: GRANTABLE.join(' '), audience, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const client = this.clients.find((c) => c.id === token.clientId);
        return {
          ...(client?.accounts !== undefined && { kepler_accounts: [...client.accounts] }),
          ...(client?.name !== undefined && { name: client.name }),
        };
      },
    });
    return provider;
  }
}

function secretOf(clientId: string): string {
  return `${clientId}-secret-that-is-long-enough`;
}
