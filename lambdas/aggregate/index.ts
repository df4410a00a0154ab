/**
 * The aggregate Lambda: DynamoDB Streams (RequestLog) → exact counters in the Stats table.
 *
 * Exactly-once (docs/aggregation.md): calls are counted by the status-transition rule
 * (core/stats/fold.ts), split into chunks that fit one TransactWriteItems each (method by
 * method, see chunkCalls), and every chunk commits its counter deltas together with one
 * conditional marker per call, so a redelivered, bisected or repeated batch finds its markers
 * and counts nothing twice. A chunk that cannot be applied stops the batch and is reported as a
 * partial batch failure from the earliest record (in stream order) not applied yet: Lambda
 * retries from there, and what was already applied is skipped by its markers.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { MonitorDeps } from '../../core/deps';
import { writeCatalog, type KnownExtrema } from '../../core/stats/apply';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { applyChunk, type ApplyChunkOptions } from './applyChunk';
import { callsOf, chunkCalls } from './chunks';

/** Markers must outlive any redelivery: the stream keeps records 24 h. */
const MARKER_LIFETIME_SECONDS = 48 * 3600;
/** Entries of the maxima cache before it starts over (each is ~100 bytes). */
const KNOWN_EXTREMA_LIMIT = 50_000;

export interface AggregateHandlerOptions {
  /** Passed to applyChunk (attempts on conflicts/throttling, backoff sleep). */
  readonly maxAttempts?: number;
  readonly sleep?: ApplyChunkOptions['sleep'];
}

export function createAggregateHandler(deps: MonitorDeps, handlerOptions: AggregateHandlerOptions = {}) {
  const { config } = deps;
  // Catalog entries this container has written; the catalog only ever grows.
  const catalogued = new Set<string>();
  const knownExtrema: KnownExtrema = new Map();

  return async function aggregateStream(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    if (knownExtrema.size > KNOWN_EXTREMA_LIMIT) knownExtrema.clear();
    const calls = callsOf(event.Records ?? []);
    const chunks = chunkCalls(calls, config);
    for (const [k, chunk] of chunks.entries()) {
      try {
        const fresh = [...chunk.deltas.values()].map((d) => d.sk).filter((sk) => !catalogued.has(sk));
        if (fresh.length > 0) {
          await writeCatalog(deps.ddb, config.statsTable, new Set(fresh));
          for (const sk of fresh) catalogued.add(sk);
        }
        await applyChunk(deps.ddb, chunk, {
          ...config,
          ...handlerOptions,
          known: knownExtrema,
          markerExpiresAt: Math.floor(deps.now().getTime() / 1000) + MARKER_LIFETIME_SECONDS,
        });
      } catch (error) {
        // Chunks go method by method: retry from the earliest call not applied yet, in stream
        // order (everything before it is applied; what is applied after it is skipped by markers).
        const unapplied = new Set(chunks.slice(k).flatMap((c) => c.calls));
        const first = calls.find((c) => unapplied.has(c))!.sequenceNumber;
        console.error(
          JSON.stringify({
            msg: 'aggregate: chunk not applied; batch retried from its first record',
            sequenceNumber: first,
            error: (error as Error).message,
          }),
        );
        return { batchItemFailures: [{ itemIdentifier: first }] };
      }
    }
    return { batchItemFailures: [] };
  };
}

export const handler = lazyHandler(() => createAggregateHandler(depsFromEnv()));
