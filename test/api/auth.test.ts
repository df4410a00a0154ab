import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createAuthorizer } from '../../lambdas/api/authorizer';
import { apiTokenFromEnv, secretTokenSource } from '../../lambdas/api/auth/apiToken';
import { bearerToken, isAuthorized, tokenMatches } from '../../lambdas/api/auth/bearerToken';
import { authorizerEvent } from './events';

describe('bearer token authorizer', () => {
  const authorizer = createAuthorizer({ token: async () => 's3cret-token' });

  it('allows exactly the configured token', async () => {
    const cases: Array<[Record<string, string>, boolean]> = [
      [{ authorization: 'Bearer s3cret-token' }, true],
      [{ Authorization: 'bearer s3cret-token' }, true],
      [{ authorization: 'Bearer s3cret-token ' }, true],
      [{ authorization: 'Bearer s3cret-tokeN' }, false],
      [{ authorization: 'Bearer s3cret-token-longer' }, false],
      [{ authorization: 'Bearer s3cret' }, false],
      [{ authorization: 'Bearer ' }, false],
      [{ authorization: 'Basic s3cret-token' }, false],
      [{ authorization: 's3cret-token' }, false],
      [{ authorization: 'Bearer a b' }, false],
      [{}, false],
    ];
    for (const [headers, allowed] of cases) {
      assert.deepEqual(
        await authorizer(authorizerEvent(headers)),
        { isAuthorized: allowed },
        JSON.stringify(headers),
      );
    }
  });

  it('denies everything when no token is configured or it cannot be read', async () => {
    const none = createAuthorizer({ token: async () => '' });
    assert.deepEqual(await none(authorizerEvent({ authorization: 'Bearer x' })), { isAuthorized: false });
    const original = console.error;
    console.error = () => {};
    try {
      const failing = createAuthorizer({ token: () => Promise.reject(new Error('throttled')) });
      assert.deepEqual(await failing(authorizerEvent({ authorization: 'Bearer x' })), {
        isAuthorized: false,
      });
    } finally {
      console.error = original;
    }
  });

  it('compares through fixed-size digests (constant time whatever the lengths)', () => {
    assert.equal(tokenMatches('abc', 'abc'), true);
    assert.equal(tokenMatches('abd', 'abc'), false);
    assert.equal(tokenMatches('a'.repeat(10_000), 'abc'), false);
    assert.equal(tokenMatches('', ''), false);
    assert.equal(bearerToken('Bearer  t0k'), 't0k');
    assert.equal(isAuthorized(undefined, 'abc'), false);
  });

  it('reads the token from Secrets Manager once per cache period, else from the environment', async () => {
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand, { SecretId: 'api-token' }).resolves({ SecretString: 'from-secret\n' });
    let clock = 0;
    const source = secretTokenSource('api-token', new SecretsManagerClient({}), 1000, () => clock);
    assert.equal(await source(), 'from-secret');
    assert.equal(await source(), 'from-secret');
    assert.equal(sm.commandCalls(GetSecretValueCommand).length, 1);
    clock = 1001;
    await source();
    assert.equal(sm.commandCalls(GetSecretValueCommand).length, 2);
    sm.restore();

    assert.equal(await apiTokenFromEnv({ GRPC_MONITOR_API_TOKEN: 'local-token' })(), 'local-token');
    assert.equal(await apiTokenFromEnv({})(), '');
  });
});
