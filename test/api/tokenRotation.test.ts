/**
 * A rotated API token in AWS: the authorizer keeps the secret for TOKEN_CACHE_MS, and API
 * Gateway caches each decision for 5 min, so a new token could be denied for up to ~10 min. The
 * authorizer reads the secret again once before it denies, at most once per TOKEN_REFRESH_MIN_MS.
 * Secrets Manager through its real client, mocked with aws-sdk-client-mock.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createAuthorizer } from '../../lambdas/api/authorizer';
import { secretTokenSource, TOKEN_CACHE_MS, TOKEN_REFRESH_MIN_MS } from '../../lambdas/api/auth/apiToken';
import { authorizerEvent } from './events';

describe('authorizer after a token rotation', () => {
  const sm = mockClient(SecretsManagerClient);
  let clock: number;
  let authorize: ReturnType<typeof createAuthorizer>;
  const reads = () => sm.commandCalls(GetSecretValueCommand).length;
  const allowed = async (token: string) =>
    (await authorize(authorizerEvent({ authorization: `Bearer ${token}` }))).isAuthorized;

  beforeEach(() => {
    sm.reset();
    sm.on(GetSecretValueCommand, { SecretId: 'api-token' }).resolves({ SecretString: 'old-token' });
    clock = 1_000_000;
    authorize = createAuthorizer({
      token: secretTokenSource('api-token', new SecretsManagerClient({}), TOKEN_CACHE_MS, () => clock),
    });
  });
  afterEach(() => sm.reset());

  it('accepts the new token at once, not after its cache of the old one expires', async () => {
    // Prepare: a warm container holding the old token
    assert.equal(await allowed('old-token'), true);
    assert.equal(reads(), 1);
    // Act: the secret is rotated; a minute later a user sends the new token
    sm.on(GetSecretValueCommand, { SecretId: 'api-token' }).resolves({ SecretString: 'new-token' });
    clock += 60_000;
    // Assess
    assert.equal(await allowed('new-token'), true);
    assert.equal(reads(), 2);
    assert.equal(await allowed('old-token'), false, 'the old token stops working in this container');
    assert.equal(reads(), 2, 'no read: the value was just refreshed');
  });

  it('reads the secret again at most once per TOKEN_REFRESH_MIN_MS, however many wrong tokens come', async () => {
    // Prepare
    assert.equal(await allowed('old-token'), true);
    clock += TOKEN_REFRESH_MIN_MS;
    // Act: a flood of wrong tokens (each a new Authorization value, so API Gateway's cache misses)
    for (let i = 0; i < 50; i++) assert.equal(await allowed(`guess-${i}`), false);
    // Assess
    assert.equal(reads(), 2);
    clock += TOKEN_REFRESH_MIN_MS;
    assert.equal(await allowed('guess-again'), false);
    assert.equal(reads(), 3);
    assert.equal(await allowed('old-token'), true, 'the right token still passes');
  });

  it('does not read again for a request without a token, and denies when the re-read fails', async () => {
    // Prepare
    assert.equal(await allowed('old-token'), true);
    clock += 60_000;
    // Act / Assess: no bearer token at all: nothing to re-check
    assert.equal((await authorize(authorizerEvent({}))).isAuthorized, false);
    assert.equal(reads(), 1);
    // Act: Secrets Manager fails on the re-read
    sm.on(GetSecretValueCommand).rejects(new Error('throttled'));
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      assert.equal(await allowed('new-token'), false);
    } finally {
      console.error = original;
    }
    // Assess: denied and logged; the cached token still serves the next call
    assert.equal(errors.length, 1);
    assert.doesNotMatch(JSON.stringify(errors), /new-token/, 'the token is never logged');
    assert.equal(await allowed('old-token'), true);
  });
});
