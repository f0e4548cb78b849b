import { describe, expect, it } from 'vitest';
import { principalOf } from './principal.js';
import { bearerToken } from './bearer.js';
import { redactCredentials, redactDeep } from './redaction.js';

describe('redaction', () => {
  it('takes the password out of every URL in a text, whatever the scheme, and every bearer token', () => {
    const text = 'amqp://kepler:s3cr%40t@rabbit:5672/vh and mongodb://u:p4ss@m1,m2/?replicaSet=rs0 esdb://admin:changeit@es:2113?tls=true Authorization: Bearer eyJabc.def.ghi';
    const redacted = redactCredentials(text);
    for (const secret of ['s3cr%40t', 'p4ss', 'changeit', 'eyJabc.def.ghi']) expect(redacted).not.toContain(secret);
    expect(redacted).toContain('amqp://kepler:***@rabbit:5672/vh');
    expect(redacted).toContain('esdb://admin:***@es:2113');
    expect(redactCredentials('http://host/path?x=1 no credentials here')).toBe('http://host/path?x=1 no credentials here');
  });

  it('redacts inside a JSON document, such as /status', () => {
    expect(redactDeep({ messaging: { feed: { lastError: 'connect amqp://u:hunter2@h failed' } } })).toEqual({ messaging: { feed: { lastError: 'connect amqp://u:***@h failed' } } });
  });
});

describe('bearer tokens and principals', () => {
  it('reads only a well-formed bearer header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc')).toBe('abc');
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Bearer "abc"']) expect(bearerToken(header), String(header)).toBeNull();
  });

  it('takes the subject, client, name, scopes and accounts from the claims', () => {
    const principal = principalOf({ sub: 'u1', azp: 'ui', preferred_username: 'Ann', scp: ['a', 'b'], scope: 'c', desks: 'ACC-1 ACC-2' }, 'desks');
    expect(principal.actor).toEqual({ subject: 'u1', clientId: 'ui', name: 'Ann' });
    expect([...principal.scopes].sort()).toEqual(['a', 'b', 'c']);
    expect(principal.entitlements).toEqual({ kind: 'accounts', accounts: new Set(['ACC-1', 'ACC-2']) });
  });
});
