/**
 * BatchWriteItem for the writer's hot path as one signed HTTP request: the body is built with
 * JSON.stringify, signed with the client's own credentials and clock offset (batchWriteSigner),
 * and posted over keep-alive connections of our own (keepAlivePool). Where it goes (endpoint,
 * signing region and service) is what the client's own pipeline decides, read once from a
 * request it signed. The SDK's generic command pipeline (schema serializer, middleware, response
 * parser) costs about twice the writer thread's CPU per item; see docs/interceptor.md.
 */
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { batchWriteSigner, type BatchWriteSigner } from './batchWriteSigner';
import { KeepAlivePool } from './keepAlivePool';
import { EncodedItem, requestLogAttributeMap } from './attributeValues';
import { refreshAfterExpiredToken } from './retryPolicy';
import type { BatchSender, QueuedItem } from './writer';

/** Where a BatchWriteItem goes and how it is signed, as the SDK client resolved it. */
export interface BatchWriteTarget {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly signingRegion: string;
  readonly signingService: string;
}

export interface BatchWriteHttpOptions {
  /** A connection not open after this long fails the request. */
  readonly connectionTimeoutMs: number;
  /** A request with no socket activity for this long fails. */
  readonly requestTimeoutMs: number;
}

/** An error answer of DynamoDB, shaped like the SDK's service exceptions (name, `$fault`, `$metadata`). */
export class DynamoDbHttpError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode: number };
  /** Set when the answer corrected our clock: a new signature will be accepted. */
  $retryable: { readonly throttling: boolean } | undefined;

  constructor(name: string, message: string, status: number) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status };
  }
}

const STOP = Symbol('batch write target resolved');
type Intercepted = { [STOP]: HttpRequest };

/**
 * The target of the client's BatchWriteItem: a command runs through the client's middleware
 * stack up to the point of sending, where a middleware reads the signed request and stops it.
 * Nothing goes over the network; credentials are resolved (and their failure thrown) as for any call.
 */
export async function resolveBatchWriteTarget(
  client: DynamoDBClient,
  tableName: string,
): Promise<BatchWriteTarget> {
  const command = new BatchWriteItemCommand({
    RequestItems: { [tableName]: [{ PutRequest: { Item: { request_id: { S: 'resolve' } } } }] },
  });
  command.middlewareStack.add(
    (_next) => (args) => {
      const intercepted: Intercepted = { [STOP]: args.request as HttpRequest };
      throw intercepted;
    },
    { step: 'deserialize', priority: 'low', name: 'grpcMonitorResolveTarget' },
  );
  let request: HttpRequest | undefined;
  try {
    await client.send(command);
  } catch (caught) {
    if (!caught || typeof caught !== 'object' || !(STOP in caught)) throw caught;
    request = (caught as Intercepted)[STOP];
  }
  if (!request) throw new Error('the DynamoDB client sent a request instead of handing it over');
  return targetOf(request);
}

/** Reads a signed request: its URL, and region and service from its credential scope. */
export function targetOf(request: HttpRequest): BatchWriteTarget {
  const authorization = request.headers.authorization ?? request.headers.Authorization ?? '';
  // "AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, ..."
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
  if (!scope) throw new Error('the DynamoDB client did not sign its request with SigV4');
  const protocol = request.protocol === 'http:' ? 'http:' : 'https:';
  return {
    protocol,
    hostname: request.hostname,
    port: request.port,
    path: request.path || '/',
    signingRegion: scope[1]!,
    signingService: scope[2]!,
  };
}

/** The BatchWriteItem body: one PutRequest per item, in DynamoDB's JSON protocol. */
export function batchWriteBody(tableName: string, items: readonly QueuedItem[]): string {
  const puts = items.map(({ item }) => {
    const json = item instanceof EncodedItem ? item.json : JSON.stringify(requestLogAttributeMap(item));
    return `{"PutRequest":{"Item":${json}}}`;
  });
  return `{"RequestItems":{${JSON.stringify(tableName)}:[${puts.join(',')}]}}`;
}

/** A BatchWriteItem answer's UnprocessedItems for one table, as DynamoDB sends it. */
export type UnprocessedPuts = ReadonlyArray<{
  PutRequest?: { Item?: Record<string, KeyAttribute | undefined> };
}>;
/** An attribute value as far as a key needs it (key attributes are strings). */
export type KeyAttribute = { S?: string; [type: string]: unknown };

/** The queue key of a RequestLog item in attribute-value form: its `request_id`. */
export const requestIdKey = (item: Record<string, KeyAttribute | undefined>): string | undefined =>
  item.request_id?.S;

/**
 * The sent items among `left`, the puts DynamoDB left unprocessed, found by their queue key
 * (`keyOf` reads it from an item in attribute-value form; RequestLog items: `request_id`).
 */
export function unprocessedItems(
  left: UnprocessedPuts | undefined,
  sent: readonly QueuedItem[],
  keyOf: (item: Record<string, KeyAttribute | undefined>) => string | undefined = requestIdKey,
): readonly QueuedItem[] {
  if (!left || left.length === 0) return [];
  const keys = new Set(left.map((request) => keyOf(request.PutRequest?.Item ?? {})));
  return sent.filter((queued) => keys.has(queued.key));
}

/** DynamoDB's error answer (`{"__type": "<namespace>#<Name>", "message": ...}`) as an error. */
export function answerError(status: number, answer: string): DynamoDbHttpError {
  let type: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(answer) as { __type?: unknown; message?: unknown; Message?: unknown };
    if (typeof parsed.__type === 'string') type = parsed.__type;
    const text = parsed.message ?? parsed.Message;
    if (typeof text === 'string') message = text;
  } catch {
    // not JSON (a proxy's page, say): the status tells what happened
  }
  const name = type?.split('#').at(-1) || `Http${status}Error`;
  return new DynamoDbHttpError(name, message ?? `DynamoDB answered ${status}`, status);
}

/**
 * A server clock 5 min or more away from ours (with the offset) means skew: DynamoDB refuses
 * signatures dated further off than that, and nearer differences (the Date header has 1 s
 * resolution) are not worth chasing.
 */
const SKEW_MS = 300_000;

/**
 * The offset to sign with after an answer dated `serverDate`; unchanged unless the clocks are
 * 5 min or more apart. It is the client's own `systemClockOffset`, shared with the SDK's requests.
 */
export function correctedClockOffset(
  offsetMs: number,
  serverDate: string | undefined,
  nowMs: number,
): number {
  const server = serverDate ? Date.parse(serverDate) : NaN;
  if (Number.isNaN(server) || Math.abs(server - (nowMs + offsetMs)) < SKEW_MS) return offsetMs;
  return server - nowMs;
}

/** A resolved target with what sends to it. */
interface Route {
  readonly to: BatchWriteTarget;
  readonly signer: BatchWriteSigner;
  readonly pool: KeepAlivePool;
}

/**
 * The generic signer, for a target with a path of its own (its canonical form is the generic
 * signer's business); same headers as batchWriteSigner's.
 */
function genericSigner(to: BatchWriteTarget, config: DynamoDBClient['config']): BatchWriteSigner {
  const signer = new SignatureV4({
    credentials: config.credentials,
    region: to.signingRegion,
    service: to.signingService,
    sha256: config.sha256,
    uriEscapePath: true,
  });
  return {
    async sign(body, signingDate) {
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
    },
  };
}

/** Sends BatchWriteItem requests as the `client` would, at a fraction of its CPU per item. */
export function batchWriteHttp(
  client: DynamoDBClient,
  tableName: string,
  options: BatchWriteHttpOptions,
): { send: BatchSender; destroy(): void } {
  const config = client.config;
  let pool: KeepAlivePool | undefined;
  let route: Promise<Route> | undefined;
  const resolve = (): Promise<Route> => {
    route ??= resolveBatchWriteTarget(client, tableName).then(
      (to) => {
        pool = new KeepAlivePool(to, options);
        const signer = to.path === '/' ? batchWriteSigner(to, config.credentials) : genericSigner(to, config);
        return { to, pool, signer };
      },
      (error: unknown) => {
        route = undefined; // try again with the next batch (credentials may come later)
        throw error;
      },
    );
    return route;
  };

  return {
    async send(items) {
      const { signer, pool } = await resolve();
      // Bytes once: hashed for the signature and written to the socket as they are.
      const body = Buffer.from(batchWriteBody(tableName, items));
      const headers = await signer.sign(body, new Date(Date.now() + config.systemClockOffset));
      const answer = await pool.post(headers, body);
      const offset = correctedClockOffset(config.systemClockOffset, answer.date, Date.now());
      const corrected = offset !== config.systemClockOffset;
      config.systemClockOffset = offset;
      if (answer.status === 200) {
        const parsed = JSON.parse(answer.body) as { UnprocessedItems?: Record<string, UnprocessedPuts> };
        return unprocessedItems(parsed.UnprocessedItems?.[tableName], items);
      }
      const error = answerError(answer.status, answer.body);
      if (corrected) error.$retryable = { throttling: false };
      // The signer asks the client's provider at each request: the retry signs with what comes here.
      await refreshAfterExpiredToken(error, config.credentials);
      throw error;
    },
    destroy() {
      pool?.destroy();
    },
  };
}
