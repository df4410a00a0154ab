import type { DynamoDBRecord } from 'aws-lambda';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { bucketEnd, DIRTY_PK, levelOf, MINUTE_LEVEL } from '../../core/stats/keys';
import { mapWithConcurrency } from '../../core/stats/mapWithConcurrency';
import { queryPartition } from '../../core/stats/read';

/**
 * Dirty markers (Stats `AGG#DIRTY` × bucket key): the buckets a close pass must recompute. A
 * stream batch marks the minutes its delta records name; each recomputed bucket marks its parent.
 * A marker is deleted once its bucket is recomputed. Markers are plain items, so a crash at any
 * point leaves at worst a bucket recomputed twice, never one forgotten.
 */

/**
 * What this container knows to be marked, to skip writing a marker again: bucket → until when
 * (epoch ms) that knowledge holds. A marker can only be deleted by a close pass, which only
 * takes a bucket once `closeAfterMs` past its end; another container may run that pass, so the
 * knowledge is trusted only until then (less a margin for clocks).
 */
export class KnownDirty {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly closeAfterMs: number,
    private readonly marginMs = 5_000,
  ) {}

  has(bucket: string, nowMs: number): boolean {
    const until = this.until.get(bucket);
    if (until === undefined) return false;
    if (nowMs < until) return true;
    this.until.delete(bucket);
    return false;
  }

  add(bucket: string): void {
    this.until.set(bucket, bucketEnd(bucket).getTime() + this.closeAfterMs - this.marginMs);
  }

  delete(bucket: string): void {
    this.until.delete(bucket);
  }
}

/** The minute bucket a Deltas stream record names (its `pk`), or undefined for another key. */
export function minuteOfRecord(record: DynamoDBRecord): string | undefined {
  const pk = record.dynamodb?.Keys?.pk?.S;
  return pk !== undefined && levelOf(pk) === MINUTE_LEVEL ? pk : undefined;
}

export const markerItem = (bucket: string) => ({ pk: DIRTY_PK, sk: bucket });

export async function putMarker(ddb: DynamoDBDocumentClient, table: string, bucket: string): Promise<void> {
  await ddb.send(new PutCommand({ TableName: table, Item: markerItem(bucket) }));
}

/** Every marked bucket (all pages; strongly consistent: it reads the markers it just wrote). */
export async function listMarked(ddb: DynamoDBDocumentClient, table: string): Promise<string[]> {
  const markers = await queryPartition(ddb, table, DIRTY_PK, true);
  return markers.flatMap((item) => (typeof item.sk === 'string' ? [item.sk] : []));
}

/**
 * Marks the minutes of a stream batch dirty (those this container does not know to be marked
 * already). Returns the sequence number of the first record (in stream order) whose minute
 * could not be marked, for a partial batch response; undefined when all are marked.
 */
export async function markBatch(
  ddb: DynamoDBDocumentClient,
  table: string,
  records: readonly DynamoDBRecord[],
  known: KnownDirty,
  nowMs: number,
  onError: (minute: string, error: unknown) => void,
): Promise<string | undefined> {
  const firstRecord = new Map<string, number>();
  records.forEach((record, index) => {
    const minute = minuteOfRecord(record);
    if (minute !== undefined && !firstRecord.has(minute)) firstRecord.set(minute, index);
  });
  const wanted = [...firstRecord.keys()].filter((minute) => !known.has(minute, nowMs));
  let failedAt = Number.POSITIVE_INFINITY;
  await mapWithConcurrency(wanted, 8, async (minute) => {
    try {
      await putMarker(ddb, table, minute);
      known.add(minute);
    } catch (error) {
      onError(minute, error);
      failedAt = Math.min(failedAt, firstRecord.get(minute)!);
    }
  });
  return Number.isFinite(failedAt) ? (records[failedAt]!.dynamodb?.SequenceNumber ?? '') : undefined;
}
