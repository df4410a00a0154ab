/**
 * Known calls into Stats the way production does it: simulated monitors fold them into deltas
 * written to the Deltas table, the aggregate handler gets the Deltas stream's KEYS_ONLY records
 * (built here, one per delta written) and then a close pass at `now`. For tests that need Stats
 * from calls without a real stream (the exactly-once test reads the real one).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../../core/config';
import { createAggregateHandler } from '../../lambdas/aggregate';
import { scheduledEvent } from '../../local/scheduledEvent';
import type { TruthCall } from './groundTruth';
import { SimulatedMonitor, writeDeltas, type DeltaItem } from './simulatedMonitors';

let sequence = 0;

/** The Deltas stream record of a written delta item, as Lambda delivers a KEYS_ONLY stream's. */
export function deltaRecord(item: Pick<DeltaItem, 'pk' | 'sk'>): DynamoDBRecord {
  const n = String(++sequence).padStart(21, '0');
  return {
    eventID: `e${n}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    eventVersion: '1.1',
    awsRegion: 'local',
    dynamodb: {
      Keys: { pk: { S: item.pk }, sk: { S: item.sk } },
      SequenceNumber: n,
      SizeBytes: 60,
      StreamViewType: 'KEYS_ONLY',
    },
  };
}

/** Ships `calls` through `monitors` simulated monitors (round robin) as one flush each. */
export async function shipCalls(
  ddb: DynamoDBDocumentClient,
  config: MonitorConfig,
  calls: readonly TruthCall[],
  monitors = 2,
): Promise<DeltaItem[]> {
  const instances = Array.from({ length: monitors }, () => new SimulatedMonitor(config.slowThresholdMs));
  calls.forEach((call, i) => instances[i % monitors]!.record(call));
  const items = instances.flatMap((m) => m.flush());
  await writeDeltas(ddb, config.deltaTable, items);
  return items;
}

/**
 * Ships the calls and aggregates them: their delta records to the handler, then a close pass
 * at `now` (every bucket that ended `closeAfterMs` before it closes; later ones stay open and
 * are read from the Deltas table). Returns the handler, for more passes.
 */
export async function aggregateCalls(
  ddb: DynamoDBDocumentClient,
  config: MonitorConfig,
  calls: readonly TruthCall[],
  now: Date = new Date(),
  handler = createAggregateHandler({ ddb, config, now: () => now }),
): Promise<ReturnType<typeof createAggregateHandler>> {
  const items = await shipCalls(ddb, config, calls);
  for (let i = 0; i < items.length; i += 100) {
    const out = await handler({ Records: items.slice(i, i + 100).map(deltaRecord) });
    if (out.batchItemFailures.length > 0) throw new Error('aggregation failed');
  }
  await handler(scheduledEvent('seed'));
  return handler;
}
