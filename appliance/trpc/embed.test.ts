import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, startAdminApiHarness, type AdminApiHarness } from '../../tests/support/admin-api.ts';
import { checkEmbedToken } from '../../query/embed/verify.ts';

describe('admin API: embed tokens', () => {
  let h: AdminApiHarness;
  let owner: string;
  let viewer: string;
  before(async () => {
    h = await startAdminApiHarness();
    owner = await h.signIn('admin', h.ownerPassword);
    viewer = (await h.userWithRole('viewer')).token;
  });
  after(async () => h.close());

  test('issue a token with snippets; it verifies for its site; rotating the tenant secret revokes it; audited, token not stored', async () => {
    const t = await h.as(owner).tenants.create({ name: 'Embedded' });
    const site = await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'Shop', allowedOrigins: ['*'] });
    const issued = await h.as(owner).embed.issueToken({ trackingId: site.id, expiresInDays: 7, pagePrefix: '/blog', allowedOrigins: ['https://portal.example'] });
    assert.equal(issued.trackingId, site.id);
    assert.deepEqual(issued.allowedOrigins, ['https://portal.example']);
    assert.equal(issued.pagePrefix, '/blog');
    assert.ok(issued.iframe.includes(`https://almanac.example/embed/dashboard?token=${encodeURIComponent(issued.token)}`), issued.iframe);
    assert.ok(issued.webComponent.includes(`<almanac-dashboard token="${issued.token}">`));

    const claims = await checkEmbedToken(h.storage.registry, issued.token, Date.now());
    assert.ok(!('ok' in claims), JSON.stringify(claims));
    assert.equal((claims as { tid: string }).tid, site.id);

    await h.as(owner).embed.rotateSecret({ tenantId: t.id });
    const after = await checkEmbedToken(h.storage.registry, issued.token, Date.now());
    assert.ok('ok' in after && after.ok === false, 'the token is refused after rotation');
    assert.equal((after as { code: string }).code, 'embed_token_revoked');

    const audit = (await h.as(viewer).audit.list({})).entries.filter((e) => e.action.startsWith('embed.'));
    assert.deepEqual(audit.map((e) => e.action).sort(), ['embed.issueToken', 'embed.rotateSecret']);
    assert.ok(!JSON.stringify(audit).includes(issued.token), 'the audit log does not keep the token');
  });

  test('viewers cannot issue or rotate; unknown sites and tenants answer not_found', async () => {
    const t = await h.as(owner).tenants.create({ name: 'Other' });
    const site = await h.as(owner).trackingIds.create({ tenantId: t.id, name: 'S', allowedOrigins: ['*'] });
    await rejectsWith(h.as(viewer).embed.issueToken({ trackingId: site.id }), 'forbidden_role', 'FORBIDDEN');
    await rejectsWith(h.as(viewer).embed.rotateSecret({ tenantId: t.id }), 'forbidden_role', 'FORBIDDEN');
    await rejectsWith(h.as(owner).embed.issueToken({ trackingId: 'AL-NOPE' }), 'not_found', 'NOT_FOUND');
    await rejectsWith(h.as(owner).embed.rotateSecret({ tenantId: 'tn_nope' }), 'not_found', 'NOT_FOUND');
  });
});
