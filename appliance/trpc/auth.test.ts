import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, startAdminApiHarness, type AdminApiHarness } from '../../tests/support/admin-api.ts';
import { adminRouter } from './router.ts';
import { SESSION_TTL_MS } from '../../control/sessions.ts';
import { hashPassword, verifyPassword } from '../../control/passwords.ts';

describe('admin API: passwords', () => {
  test('scrypt hashes are salted per user and verified in constant time; a wrong password fails', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    assert.notEqual(a, b, 'a fresh salt per hash');
    assert.match(a, /^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    assert.equal(await verifyPassword('correct horse battery', a), true);
    assert.equal(await verifyPassword('correct horse batterz', a), false);
    assert.equal(await verifyPassword('x', 'plain-text'), false);
  });
});

describe('admin API: auth', () => {
  let h: AdminApiHarness;
  before(async () => { h = await startAdminApiHarness(); });
  after(async () => h.close());

  test('sign in with the first admin user, me, sign out; the token is opaque and stored hashed', async () => {
    await rejectsWith(h.as(null).auth.signIn({ username: 'admin', password: 'wrong password!' }), 'bad_credentials', 'UNAUTHORIZED');
    await rejectsWith(h.as(null).auth.signIn({ username: 'nobody', password: 'wrong password!' }), 'bad_credentials', 'UNAUTHORIZED');
    const { token, expiresAt, user } = await h.as(null).auth.signIn({ username: 'ADMIN', password: h.ownerPassword });
    assert.match(token, /^as_[\w-]{43}$/, '32 random bytes');
    assert.equal(expiresAt, h.clock.now + SESSION_TTL_MS);
    assert.equal(user.role, 'owner');
    assert.equal('passwordHash' in user, false);
    assert.equal(await h.storage.registry.getAdminSession!(token), undefined, 'the token itself is not a key in the store');
    const me = await h.as(token).auth.me();
    assert.deepEqual({ role: me.role, name: me.name, kind: me.kind }, { role: 'owner', name: 'admin', kind: 'user' });
    assert.deepEqual(await h.as(token).auth.signOut(), { signedOut: true });
    assert.equal((await h.as(await h.signIn('admin', h.ownerPassword)).audit.list({ action: 'auth.signOut' })).entries[0].actorName, 'admin');
    await rejectsWith(h.as(token).auth.me(), 'not_signed_in', 'UNAUTHORIZED');
    await rejectsWith(h.as(null).auth.me(), 'not_signed_in', 'UNAUTHORIZED');
    await rejectsWith(h.as('as_forged').auth.me(), 'not_signed_in');
  });

  test('sessions expire after 12 h without use and slide forward with use', async () => {
    const token = await h.signIn('admin', h.ownerPassword);
    h.clock.now += SESSION_TTL_MS - 60 * 60_000; // 11 h later: still valid, and used
    await h.as(token).auth.me();
    h.clock.now += SESSION_TTL_MS - 60 * 60_000; // 22 h after sign-in, 11 h after last use
    await h.as(token).auth.me();
    h.clock.now += SESSION_TTL_MS + 1;
    await rejectsWith(h.as(token).auth.me(), 'session_expired', 'UNAUTHORIZED');
    await rejectsWith(h.as(token).auth.me(), 'not_signed_in', 'UNAUTHORIZED');
  });

  test('users: owner creates, lists, changes roles, disables (ends sessions), resets passwords; the last owner is kept', async () => {
    const owner = await h.signIn('admin', h.ownerPassword);
    const created = await h.as(owner).auth.users.create({ username: 'dana', role: 'viewer', password: 'a long password 1' });
    assert.equal(created.user.role, 'viewer');
    assert.equal('password' in created, false, 'a chosen password is not echoed');
    await rejectsWith(h.as(owner).auth.users.create({ username: 'Dana', role: 'admin' }), 'conflict', 'CONFLICT');
    await assert.rejects(h.as(owner).auth.users.create({ username: 'eve', role: 'admin', password: 'short' }), /at least 12/);
    const list = await h.as(owner).auth.users.list();
    assert.ok(list.some((u) => u.username === 'dana'));
    assert.ok(list.every((u) => !('passwordHash' in u)));

    const dana = await h.signIn('dana', 'a long password 1');
    assert.equal((await h.as(owner).auth.users.setRole({ id: created.user.id, role: 'admin' })).role, 'admin');
    assert.equal((await h.as(dana).auth.me()).role, 'admin', 'a role change applies to open sessions');

    const admins = list.filter((u) => u.role === 'owner');
    assert.equal(admins.length, 1);
    await rejectsWith(h.as(owner).auth.users.setRole({ id: admins[0].id, role: 'admin' }), 'last_owner', 'CONFLICT');
    await rejectsWith(h.as(owner).auth.users.setDisabled({ id: admins[0].id, disabled: true }), 'last_owner');

    await h.as(owner).auth.users.setDisabled({ id: created.user.id, disabled: true });
    await rejectsWith(h.as(dana).auth.me(), 'not_signed_in');
    await rejectsWith(h.as(null).auth.signIn({ username: 'dana', password: 'a long password 1' }), 'bad_credentials');
    await h.as(owner).auth.users.setDisabled({ id: created.user.id, disabled: false });
    const reset = await h.as(owner).auth.users.resetPassword({ id: created.user.id });
    assert.ok(reset.password && reset.password.length >= 24);
    await rejectsWith(h.as(null).auth.signIn({ username: 'dana', password: 'a long password 1' }), 'bad_credentials');
    await h.signIn('dana', reset.password);
    await rejectsWith(h.as(owner).auth.users.setRole({ id: 'usr_nope', role: 'admin' }), 'not_found', 'NOT_FOUND');

    const actions = (await h.as(owner).audit.list({ target: `user:${created.user.id}` })).entries.map((e) => e.action);
    assert.deepEqual(actions.reverse(), ['auth.users.create', 'auth.signIn', 'auth.users.setRole', 'auth.users.disable', 'auth.users.enable', 'auth.users.resetPassword', 'auth.signIn']);
  });
});

describe('admin API: authorisation', () => {
  let h: AdminApiHarness;
  before(async () => { h = await startAdminApiHarness(); });
  after(async () => h.close());

  const procedures = Object.entries(adminRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(([path, p]) => ({ path, type: p._def.type }));
  const call = (caller: unknown, path: string) => {
    const fn = path.split('.').reduce((o: any, k) => o[k], caller) as (input: unknown) => Promise<unknown>;
    return fn({});
  };

  test('the router has every area and its procedures', () => {
    const paths = procedures.map((p) => p.path);
    for (const expected of ['auth.signIn', 'auth.users.create', 'tenants.delete', 'tenants.deletionProgress', 'trackingIds.rotateServerKey', 'trackingIds.counts', 'replays.progress', 'scaling.setDesired', 'scaling.log', 'health.freshness', 'audit.list']) {
      assert.ok(paths.includes(expected), expected);
    }
  });

  test('a viewer can read but every mutation is refused (forbidden_role) before its input is even looked at', async () => {
    const viewer = await h.userWithRole('viewer');
    await h.as(viewer.token).tenants.list();
    await h.as(viewer.token).audit.list();
    const mutations = procedures.filter((p) => p.type === 'mutation' && p.path !== 'auth.signIn' && p.path !== 'auth.signOut');
    assert.ok(mutations.length >= 17, `${mutations.length} mutations`);
    const auditBefore = (await h.as(viewer.token).audit.list({ limit: 500 })).entries.length;
    for (const m of mutations) await rejectsWith(call(h.as(viewer.token), m.path), 'forbidden_role', 'FORBIDDEN');
    assert.equal((await h.as(viewer.token).audit.list({ limit: 500 })).entries.length, auditBefore, 'a refused mutation changes nothing, not even the audit log');
  });

  test('an admin runs every mutation except user management; an owner also manages users', async () => {
    const admin = await h.userWithRole('admin');
    for (const p of procedures.filter((p) => p.path.startsWith('auth.users.'))) {
      await rejectsWith(call(h.as(admin.token), p.path), 'forbidden_role', 'FORBIDDEN');
    }
    const tenant = await h.as(admin.token).tenants.create({ name: 'By admin' });
    assert.equal(tenant.name, 'By admin');
  });

  test('tenant API keys cannot use the admin API at all; an admin API key acts as the owner service identity', async () => {
    const tenantKey = await h.apiKey('tenant');
    for (const p of procedures.filter((p) => p.path !== 'auth.signIn')) {
      await rejectsWith(call(h.as(tenantKey), p.path), 'tenant_key_not_allowed', 'FORBIDDEN');
    }
    const adminKey = await h.apiKey('admin');
    const me = await h.as(adminKey).auth.me();
    assert.deepEqual({ role: me.role, kind: me.kind }, { role: 'owner', kind: 'apikey' });
    const created = await h.as(adminKey).auth.users.create({ username: 'robot-made', role: 'viewer' });
    const [entry] = (await h.as(adminKey).audit.list({ target: `user:${created.user.id}` })).entries;
    assert.equal(entry.actor, me.actor, 'the audit log names the key');
    assert.equal(entry.action, 'auth.users.create');
    await rejectsWith(h.as('ak_not-a-key').tenants.list(), 'not_signed_in', 'UNAUTHORIZED');
  });
});
