import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { BatchWriteTarget } from '../../interceptor/batchWriteHttp';
import { batchWriteSigner } from '../../interceptor/batchWriteSigner';

const TO: BatchWriteTarget = {
  protocol: 'https:',
  hostname: 'dynamodb.eu-west-1.amazonaws.com',
  port: undefined,
  path: '/',
  signingRegion: 'eu-west-1',
  signingService: 'dynamodb',
};
const KEY: AwsCredentialIdentity = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

/** The hash the SDK's client signs with. */
const sha256 = new DynamoDBClient({ region: 'eu-west-1', credentials: KEY }).config.sha256;

/** What @smithy/signature-v4 (the SDK's signer) makes of the same request. */
async function smithyHeaders(
  to: BatchWriteTarget,
  credentials: AwsCredentialIdentity,
  body: Buffer,
  signingDate: Date,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials,
    region: to.signingRegion,
    service: to.signingService,
    sha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: to.protocol,
      hostname: to.hostname,
      port: to.port,
      path: to.path,
      query: {},
      headers: {
        host: to.port ? `${to.hostname}:${to.port}` : to.hostname,
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(body.length),
        'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
      },
      body,
    },
    { signingDate },
  );
  return signed.headers;
}

describe('batchWriteSigner', () => {
  const body = Buffer.from(
    '{"RequestItems":{"requests":[{"PutRequest":{"Item":{"request_id":{"S":"é ✓"}}}}]}}',
  );
  const date = new Date(Date.UTC(2026, 11, 4, 23, 59, 58, 765));

  test('signs exactly as @smithy/signature-v4 does: with and without a session token, any port', async () => {
    for (const [to, credentials] of [
      [TO, KEY],
      [TO, { ...KEY, sessionToken: 'FQoGZXIvYXdzEJr//////////wEaDOn+token=' }],
      [{ ...TO, protocol: 'http:', hostname: '127.0.0.1', port: 8000 }, KEY],
    ] as const) {
      const ours = await batchWriteSigner(to, async () => credentials).sign(body, date);
      assert.deepEqual(ours, await smithyHeaders(to, credentials, body, date));
    }
  });

  test('the cached signing key follows the day and the secret the provider gives', async () => {
    let credentials = KEY;
    const signer = batchWriteSigner(TO, async () => credentials);
    await signer.sign(body, date);
    const nextDay = new Date(date.getTime() + 5_000);
    assert.deepEqual(await signer.sign(body, nextDay), await smithyHeaders(TO, credentials, body, nextDay));
    credentials = { accessKeyId: 'AKIDROTATED', secretAccessKey: 'rotated-secret' };
    assert.deepEqual(await signer.sign(body, nextDay), await smithyHeaders(TO, credentials, body, nextDay));
  });

  test('credentials without a secret are refused, as the SDK refuses them', async () => {
    const signer = batchWriteSigner(TO, async () => ({ accessKeyId: 'x' }) as AwsCredentialIdentity);
    await assert.rejects(signer.sign(body, date), /not valid/);
  });
});
