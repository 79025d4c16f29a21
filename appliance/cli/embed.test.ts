import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../main/config.ts';
import { openRegistryOnly } from '../main/profiles.ts';
import { createTenant } from '../../control/tenants.ts';
import { createTrackingId } from '../../control/tracking-ids.ts';
import { ControlError } from '../../control/errors.ts';
import { embedCommand, isEmbedCommand } from './embed.ts';
import { verifyEmbedToken } from '../../query/embed/token.ts';

test('almanac embed-tokens create and tenants rotate-embed-secret', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'almanac-embed-cli-'));
  try {
    const config = loadConfig({ ALMANAC_DATA_DIR: dir });
    const setup = await openRegistryOnly(config);
    const tenant = await createTenant(setup, { name: 'Acme' });
    const site = await createTrackingId(setup, { tenantId: tenant.id, name: 'Shop', allowedOrigins: ['https://shop.example'] });
    await setup.close();

    let out = '';
    const run = (command: string, sub: string, args: string[], flags: Record<string, string>) => embedCommand(config, command, sub, args, flags, (s) => (out = s));
    assert.ok(isEmbedCommand('embed-tokens', 'create') && isEmbedCommand('tenants', 'rotate-embed-secret') && !isEmbedCommand('tenants', 'list'));

    assert.equal(await run('embed-tokens', 'create', [], { ALMANAC_TRACKING_ID: site.id, ALMANAC_EXPIRES_IN_DAYS: '2', ALMANAC_PAGE_PREFIX: '/blog/', ALMANAC_ORIGINS: 'https://portal.example, http://localhost:3000' }), 0);
    const issued = JSON.parse(out);
    assert.equal(issued.pagePrefix, '/blog/');
    assert.deepEqual(issued.allowedOrigins, ['https://portal.example', 'http://localhost:3000']);
    assert.match(issued.iframe, /<iframe src="http:\/\/127\.0\.0\.1:8420\/embed\/dashboard\?token=emb1\./);

    const registry = await openRegistryOnly(config);
    const secret = await registry.getEmbedSecret!(tenant.id);
    assert.equal((verifyEmbedToken(issued.token, secret, Date.now()) as { tid: string }).tid, site.id);
    await registry.close();

    assert.equal(await run('tenants', 'rotate-embed-secret', [tenant.id], {}), 0);
    assert.equal(JSON.parse(out).generation, 2);
    const after = await openRegistryOnly(config);
    assert.equal((verifyEmbedToken(issued.token, await after.getEmbedSecret!(tenant.id), Date.now()) as { code: string }).code, 'embed_token_revoked');
    await after.close();

    await assert.rejects(run('embed-tokens', 'create', [], {}), (e) => e instanceof ControlError && e.code === 'invalid_request');
    await assert.rejects(run('embed-tokens', 'create', [], { ALMANAC_TRACKING_ID: site.id, ALMANAC_EXPIRES_IN_DAYS: '9999' }), /at most 400 days/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
