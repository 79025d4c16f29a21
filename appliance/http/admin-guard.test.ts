import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiKeyRecord } from '../../core/ports/index.ts';
import { hashApiKey } from '../../core/api-key.ts';
import { adminRoutes } from './admin-guard.ts';

const key = (scope: ApiKeyRecord['scope'], secret: string): ApiKeyRecord =>
  ({ id: `key_${scope}`, tenantId: 'tn_1', name: scope, keyHash: hashApiKey(secret), scope, createdAt: 0 }) as ApiKeyRecord;

async function app(): Promise<FastifyInstance & AsyncDisposable> {
  const keys = [key('admin', 'ak_admin'), key('tenant', 'ak_tenant')];
  const registry = { findApiKeyByHash: async (h: string) => keys.find((k) => k.keyHash === h) };
  const admin = adminRoutes(registry);
  const fastify = Fastify();
  fastify.get('/api/admin/status', admin(async () => ({ body: { ok: true } })));
  await fastify.ready();
  return Object.assign(fastify, { [Symbol.asyncDispose]: () => fastify.close() });
}

test('a tenant API key on /api/admin/* is 403 tenant_key_not_allowed, as in the tRPC admin API (was 401 "Missing or unknown API key")', async () => {
  await using fastify = await app();
  const as = (authorization?: string) => fastify.inject({ url: '/api/admin/status', headers: authorization ? { authorization } : {} });

  const tenant = await as('Bearer ak_tenant');
  assert.equal(tenant.statusCode, 403);
  assert.equal(tenant.json().error.code, 'tenant_key_not_allowed');
  assert.match(tenant.json().error.message, /tenant API key/);

  for (const missing of [undefined, 'Bearer ak_nope', 'Basic abc']) {
    const r = await as(missing);
    assert.equal(r.statusCode, 401, String(missing));
    assert.equal(r.json().error.code, 'unauthorized');
  }
  assert.deepEqual((await as('Bearer ak_admin')).json(), { ok: true });
});
