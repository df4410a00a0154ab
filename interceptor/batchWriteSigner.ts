/**
 * SigV4 for the writer's BatchWriteItem requests, and only for them: a POST to the target's root
 * path with a fixed set of headers. `@smithy/signature-v4` signs any request, and pays for it on
 * every one: a dozen promises, an HMAC of the credentials to find its cached signing key, the
 * body and canonical request converted to bytes and hashed through its hash wrapper. Here the
 * body is hashed as the Buffer that is sent, the signing key is kept until the day, region,
 * service or secret changes, and the rest is two hashes. A test holds the headers equal to what
 * `@smithy/signature-v4` makes of the same request.
 */
import { createHash, createHmac } from 'node:crypto';
import type { BatchWriteTarget } from './batchWriteHttp';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/** The headers of a signed BatchWriteItem request, lower-case names, sent as they are. */
export type SignedHeaders = Record<string, string>;

export interface BatchWriteSigner {
  /** Signs a BatchWriteItem with `body` at `signingDate` (the clock with the client's offset). */
  sign(body: Buffer, signingDate: Date): Promise<SignedHeaders>;
}

const TARGET = 'DynamoDB_20120810.BatchWriteItem';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/**
 * A signer for requests to `to`, with the credentials `credentials` gives at each request (so a
 * refreshed or rotated key is used from the next request on). Only for the root path: the
 * caller keeps the generic signer for a target with a path of its own.
 */
export function batchWriteSigner(
  to: BatchWriteTarget,
  credentials: AwsCredentialIdentityProvider,
): BatchWriteSigner {
  const host = to.port ? `${to.hostname}:${to.port}` : to.hostname;
  let keyFor = '';
  let key: Buffer | undefined;
  const signingKey = (secret: string, shortDate: string): Buffer => {
    const id = `${shortDate}/${secret}`;
    if (key && id === keyFor) return key;
    let k: Buffer = createHmac('sha256', `AWS4${secret}`).update(shortDate).digest();
    for (const part of [to.signingRegion, to.signingService, 'aws4_request']) {
      k = createHmac('sha256', k).update(part).digest();
    }
    keyFor = id;
    return (key = k);
  };

  return {
    async sign(body, signingDate) {
      const creds = await credentials();
      if (typeof creds?.accessKeyId !== 'string' || typeof creds.secretAccessKey !== 'string') {
        throw new Error('Resolved credential object is not valid');
      }
      const longDate = signingDate
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
        .replace(/[-:]/g, '');
      const shortDate = longDate.slice(0, 8);
      const scope = `${shortDate}/${to.signingRegion}/${to.signingService}/aws4_request`;
      const payloadHash = createHash('sha256').update(body).digest('hex');
      const length = String(body.length);
      const token = creds.sessionToken;
      // Canonical headers, sorted by name.
      const canonical =
        `content-length:${length}\ncontent-type:${CONTENT_TYPE}\nhost:${host}\n` +
        `x-amz-content-sha256:${payloadHash}\nx-amz-date:${longDate}\n` +
        (token ? `x-amz-security-token:${token.replace(/\s+/g, ' ').trim()}\n` : '') +
        `x-amz-target:${TARGET}\n`;
      const signedNames =
        'content-length;content-type;host;x-amz-content-sha256;x-amz-date;' +
        (token ? 'x-amz-security-token;' : '') +
        'x-amz-target';
      const request = `POST\n/\n\n${canonical}\n${signedNames}\n${payloadHash}`;
      const stringToSign =
        `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n` + createHash('sha256').update(request).digest('hex');
      const signature = createHmac('sha256', signingKey(creds.secretAccessKey, shortDate))
        .update(stringToSign)
        .digest('hex');
      const headers: SignedHeaders = {
        host,
        'content-type': CONTENT_TYPE,
        'content-length': length,
        'x-amz-target': TARGET,
        'x-amz-date': longDate,
        'x-amz-content-sha256': payloadHash,
        authorization:
          `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, ` +
          `SignedHeaders=${signedNames}, Signature=${signature}`,
      };
      if (token) headers['x-amz-security-token'] = token;
      return headers;
    },
  };
}
