import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TRPCClientError } from '@trpc/client';
import { readableError } from './errors.ts';

test('an API error with an appCode gets its headline and keeps the server message (what to do)', () => {
  const e = { message: 'Your session expired: sign in again.', data: { appCode: 'session_expired', code: 'UNAUTHORIZED' } };
  assert.deepEqual(readableError(e), { code: 'session_expired', headline: 'Your session expired.', detail: 'Your session expired: sign in again.', needsSignIn: true });
  assert.equal(readableError({ message: 'x', data: { appCode: 'forbidden_role' } }).needsSignIn, false);
});

test('a real TRPCClientError built from a server error shape is read the same way', () => {
  const err = TRPCClientError.from({ error: { message: 'Viewers can look but not change anything.', code: -32003, data: { appCode: 'forbidden_role', code: 'FORBIDDEN', httpStatus: 403 } } });
  const r = readableError(err);
  assert.equal(r.code, 'forbidden_role');
  assert.equal(r.headline, 'Your role does not allow this.');
  assert.match(r.detail, /Viewers can look/);
});

test('zod validation messages become "field: problem" lines', () => {
  const message = JSON.stringify([{ path: ['name'], message: 'String must contain at least 1 character(s)' }, { path: ['quotas', 'retentionDays'], message: 'Expected number' }]);
  const r = readableError({ message, data: { appCode: 'invalid_request' } });
  assert.equal(r.detail, 'name: String must contain at least 1 character(s); quotas.retentionDays: Expected number');
});

test('no answer at all reads as "cannot reach the appliance"; anything else keeps its message', () => {
  assert.equal(readableError(new TypeError('Failed to fetch')).code, 'network');
  assert.deepEqual(readableError(new Error('boom')), { code: 'unknown', headline: 'Something went wrong.', detail: 'boom', needsSignIn: false });
  assert.equal(readableError({ message: 'm', data: { appCode: 'brand_new_code' } }).headline, 'Error: brand_new_code.');
});
