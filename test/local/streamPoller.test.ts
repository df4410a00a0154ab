import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamoDBRecord } from 'aws-lambda';
import { aggregateConsumer, alertConsumer, type StreamConsumerSettings } from '../../core/streamConsumers';
import { startStreamPoller, type ShardInfo, type StreamSource } from '../../local/streamPoller';

/** An in-memory stream: shards with fixed records, closed or open, read in pages of `page`. */
function fakeStream(shards: Array<ShardInfo & { records: DynamoDBRecord[]; closed: boolean }>, page = 2) {
  const reads: string[] = [];
  const source: StreamSource = {
    async listShards() {
      return shards.map(({ shardId, parentShardId }) => ({
        shardId,
        ...(parentShardId ? { parentShardId } : {}),
      }));
    },
    async shardIterator(shardId) {
      return `${shardId}:0`;
    },
    async read(iterator) {
      const [shardId, offset] = iterator.split(':') as [string, string];
      reads.push(shardId);
      const shard = shards.find((s) => s.shardId === shardId)!;
      const from = Number(offset);
      const records = shard.records.slice(from, from + page);
      const end = from + records.length;
      const done = shard.closed && end >= shard.records.length;
      return { records, nextIterator: done ? undefined : `${shardId}:${end}` };
    },
  };
  return { source, reads };
}

let seq = 0;
const item = (id: string, status: string, itemType = 'request'): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: {
    SequenceNumber: String(++seq),
    ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
    NewImage: { request_id: { S: id }, item_type: { S: itemType }, status: { S: status } },
  },
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fast: StreamConsumerSettings = { ...aggregateConsumer, maxBatchingWindowSeconds: 0 };

describe('stream poller', () => {
  it('reads a parent shard to its end before its children, and every shard', async () => {
    // Prepare: a closed parent split into two children.
    const { source } = fakeStream([
      { shardId: 'child-a', parentShardId: 'root', records: [item('c1', 'success')], closed: false },
      {
        shardId: 'root',
        records: [item('r1', 'success'), item('r2', 'error'), item('r3', 'success')],
        closed: true,
      },
      { shardId: 'child-b', parentShardId: 'root', records: [item('c2', 'timeout')], closed: false },
    ]);
    const delivered: string[] = [];
    // Act
    const poller = startStreamPoller({
      name: 't',
      source,
      settings: fast,
      pollIntervalMs: 5,
      shardRefreshMs: 20,
      log: () => {},
      handler: async (event) => {
        for (const r of event.Records) delivered.push(r.dynamodb!.NewImage!.request_id!.S!);
        return { batchItemFailures: [] };
      },
    });
    await until(() => delivered.length === 5);
    await poller.stop();
    // Assess
    assert.deepEqual(delivered.slice(0, 3), ['r1', 'r2', 'r3']);
    assert.deepEqual(delivered.slice(3).sort(), ['c1', 'c2']);
  });

  it('delivers only what the consumer filter lets through (the alert consumer: failures)', async () => {
    const { source } = fakeStream([
      {
        shardId: 's',
        records: [
          item('p', 'pending'),
          item('ok', 'success'),
          item('hb', 'success', 'heartbeat'),
          item('e', 'error'),
        ],
        closed: false,
      },
    ]);
    const delivered: string[] = [];
    const poller = startStreamPoller({
      name: 't',
      source,
      settings: { ...alertConsumer, maxBatchingWindowSeconds: 0 },
      pollIntervalMs: 5,
      log: () => {},
      handler: async (event) => {
        for (const r of event.Records) delivered.push(r.dynamodb!.NewImage!.request_id!.S!);
      },
    });
    await until(() => delivered.length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    await poller.stop();
    assert.deepEqual(delivered, ['e']);
  });

  it('gives the aggregate consumer every delta written, never a TTL removal', async () => {
    const delta = (sk: string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE'): DynamoDBRecord => ({
      eventName,
      dynamodb: {
        SequenceNumber: String(++seq),
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: { pk: { S: 'M#2026-01-01T00:00' }, sk: { S: sk } },
        StreamViewType: 'KEYS_ONLY',
      },
    });
    const { source } = fakeStream([
      {
        shardId: 's',
        records: [delta('a#1', 'INSERT'), delta('a#0', 'REMOVE'), delta('a#1', 'MODIFY')],
        closed: false,
      },
    ]);
    const delivered: string[] = [];
    const poller = startStreamPoller({
      name: 't',
      source,
      settings: fast,
      pollIntervalMs: 5,
      log: () => {},
      handler: async (event) => {
        for (const r of event.Records) delivered.push(`${r.eventName} ${r.dynamodb!.Keys!.sk!.S!}`);
      },
    });
    await until(() => delivered.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    await poller.stop();
    assert.deepEqual(delivered, ['INSERT a#1', 'MODIFY a#1']);
  });

  it('keeps batches within batchSize and gathers records for the batching window', async () => {
    const records = Array.from({ length: 7 }, (_, i) => item(`r${i}`, 'success'));
    const { source } = fakeStream([{ shardId: 's', records, closed: false }], 10);
    const batches: number[] = [];
    const poller = startStreamPoller({
      name: 't',
      source,
      settings: { ...aggregateConsumer, batchSize: 3, maxBatchingWindowSeconds: 0.2 },
      pollIntervalMs: 5,
      log: () => {},
      handler: async (event) => {
        batches.push(event.Records.length);
      },
    });
    await until(() => batches.reduce((a, b) => a + b, 0) === 7);
    await poller.stop();
    assert.deepEqual(batches, [3, 3, 1]);
  });
});
