import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredScaleProblem } from './desired-scale.ts';

const ones = { collector: 1, archiver: 1, aggregator: 1, query: 1 };

test('cluster: any whole counts from 0 to 16 with at least one HTTP worker', () => {
  assert.equal(desiredScaleProblem({ collector: 4, archiver: 0, aggregator: 3, query: 0 }, 'cluster'), undefined);
  assert.equal(desiredScaleProblem({ collector: 0, archiver: 2, aggregator: 16, query: 1 }, 'cluster'), undefined);
  assert.match(desiredScaleProblem({ ...ones, aggregator: 17 }, 'cluster')!, /aggregator count must be a whole number from 0 to 16, got 17/);
  assert.match(desiredScaleProblem({ ...ones, collector: 0, query: 0 }, 'cluster')!, /at least one collector or query worker/);
  assert.match(desiredScaleProblem({ ...ones, extra: 1 }, 'cluster')!, /Unknown worker role "extra"/);
  assert.match(desiredScaleProblem({ collector: 1 }, 'cluster')!, /archiver count/);
  assert.match(desiredScaleProblem(null, 'cluster')!, /must be an object/);
});

test('embedded: only one of each role, and the message says why and what to run instead', () => {
  assert.equal(desiredScaleProblem(ones, 'embedded'), undefined);
  const problem = desiredScaleProblem({ ...ones, aggregator: 3 }, 'embedded')!;
  assert.match(problem, /aggregator cannot be set to 3/);
  assert.match(problem, /single consumer per group/);
  assert.match(problem, /cluster profile/);
});
