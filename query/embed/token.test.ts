import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { EmbedSecret } from '../../core/ports/index.ts';
import { frameAncestors, pageAllowed, readEmbedClaims, signEmbedToken, verifyEmbedToken, type EmbedClaims } from './token.ts';
import { scopeEmbedParams } from './scope.ts';

const NOW = Date.UTC(2026, 10, 27, 12, 0);
const secret: EmbedSecret = { tenantId: 'tn_acme', secret: 'c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU', generation: 3, rotatedAt: NOW - 1000 };
const claims = (extra: Partial<EmbedClaims> = {}): EmbedClaims => ({
  tid: 'AL-SHOP', tn: 'tn_acme', g: 3, iat: NOW / 1000 - 60, exp: NOW / 1000 + 3600, jti: 'tok1', ...extra,
});
const code = (r: unknown) => (r as { code?: string }).code;

describe('embed tokens: sign and verify', () => {
  test('a token signed with the current secret verifies to its claims', () => {
    const c = claims({ f: { pagePrefix: '/blog/' }, o: ['https://portal.example'] });
    assert.deepEqual(verifyEmbedToken(signEmbedToken(c, secret.secret), secret, NOW), c);
  });

  test('tampering: any changed character of the claims or the signature is refused as invalid', () => {
    const token = signEmbedToken(claims(), secret.secret);
    const [prefix, body, sig] = token.split('.');
    // Lift the expiry and the site, keeping the old signature.
    const forged = Buffer.from(JSON.stringify(claims({ tid: 'AL-OTHER', exp: NOW / 1000 + 10 ** 8 }))).toString('base64url');
    assert.equal(code(verifyEmbedToken(`${prefix}.${forged}.${sig}`, secret, NOW)), 'embed_token_invalid');
    fc.assert(fc.property(fc.nat({ max: body.length + sig.length }), fc.constantFrom(...'ABCxyz019-_'), (i, ch) => {
      const joined = body + '.' + sig;
      if (joined[i] === '.' || joined[i] === ch) return;
      const altered = `${prefix}.${joined.slice(0, i)}${ch}${joined.slice(i + 1)}`;
      const r = verifyEmbedToken(altered, secret, NOW);
      assert.ok('ok' in r && ['embed_token_invalid', 'embed_token_malformed', 'embed_token_revoked'].includes(r.code), `${altered} -> ${JSON.stringify(r)}`);
    }), { numRuns: 300 });
  });

  test('regression: another spelling of the same signature (unused bits of its last character) is refused', () => {
    const token = signEmbedToken(claims(), secret.secret);
    const last = token.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1];
    const respelled = token.slice(0, -1) + sibling;
    assert.deepEqual(Buffer.from(respelled.split('.')[2], 'base64url'), Buffer.from(token.split('.')[2], 'base64url'), 'decodes to the same bytes');
    assert.equal(code(verifyEmbedToken(respelled, secret, NOW)), 'embed_token_invalid');
  });

  test('signed with another secret of the same generation: invalid', () => {
    const token = signEmbedToken(claims(), 'some-other-secret');
    assert.equal(code(verifyEmbedToken(token, secret, NOW)), 'embed_token_invalid');
  });

  test('expiry: valid until exp, expired from then on (checked after the signature)', () => {
    const token = signEmbedToken(claims(), secret.secret);
    assert.ok(!('ok' in verifyEmbedToken(token, secret, NOW + 3_599_999)));
    assert.equal(code(verifyEmbedToken(token, secret, NOW + 3_600_000)), 'embed_token_expired');
  });

  test('rotation: a token of an older generation is revoked, even with its old secret known', () => {
    const old: EmbedSecret = { ...secret, secret: 'old-secret', generation: 2 };
    const token = signEmbedToken(claims({ g: 2 }), old.secret);
    assert.ok(!('ok' in verifyEmbedToken(token, old, NOW)), 'valid before the rotation');
    assert.equal(code(verifyEmbedToken(token, secret, NOW)), 'embed_token_revoked');
    assert.equal(code(verifyEmbedToken(signEmbedToken(claims({ g: 4 }), secret.secret), secret, NOW)), 'embed_token_invalid', 'a future generation does not exist');
  });

  test('no secret for the tenant, or another tenant\'s secret: invalid', () => {
    const token = signEmbedToken(claims(), secret.secret);
    assert.equal(code(verifyEmbedToken(token, undefined, NOW)), 'embed_token_invalid');
    assert.equal(code(verifyEmbedToken(token, { ...secret, tenantId: 'tn_other' }, NOW)), 'embed_token_invalid');
  });

  test('malformed tokens', () => {
    for (const t of ['', 'ak_123', 'emb1.', 'emb1.abc', 'emb1.!!!.' + 'a'.repeat(43), `emb1.${Buffer.from('{"tid":1}').toString('base64url')}.${'a'.repeat(43)}`]) {
      assert.equal(code(readEmbedClaims(t)), 'embed_token_malformed', t);
    }
  });
});

describe('embed tokens: scope and filter', () => {
  test('a token reads only its own tracking ID', () => {
    assert.deepEqual(scopeEmbedParams('aggregate', { period: '7d' }, claims()), { params: { period: '7d', site_id: 'AL-SHOP' } });
    assert.equal(code(scopeEmbedParams('aggregate', { site_id: 'AL-OTHER' }, claims())), 'forbidden');
  });

  test('the fixed page filter is always applied and cannot be widened', () => {
    const c = claims({ f: { pagePrefix: '/blog/' } });
    assert.deepEqual(scopeEmbedParams('breakdown', { property: 'page' }, c), { params: { property: 'page', site_id: 'AL-SHOP', page_prefix: '/blog/' } });
    assert.deepEqual(scopeEmbedParams('timeseries', { page_prefix: '/blog/2026/' }, c), { params: { page_prefix: '/blog/2026/', site_id: 'AL-SHOP' } });
    assert.equal(code(scopeEmbedParams('timeseries', { page_prefix: '/' }, c)), 'forbidden');
    assert.equal(code(scopeEmbedParams('realtime_visitors', {}, c)), 'embed_filter_unsupported');
    assert.ok(pageAllowed(c.f, '/blog/post') && !pageAllowed(c.f, '/pricing') && pageAllowed(undefined, '/pricing'));
  });

  test('frame-ancestors lists the allowed origins, or none', () => {
    assert.equal(frameAncestors(['https://a.example', 'http://localhost:3000']), 'frame-ancestors https://a.example http://localhost:3000');
    assert.equal(frameAncestors([]), "frame-ancestors 'none'");
    assert.equal(frameAncestors(undefined), "frame-ancestors 'none'");
  });
});
