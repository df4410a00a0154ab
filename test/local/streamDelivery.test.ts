import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { aggregateConsumer, alertConsumer } from '../../core/streamConsumers';
import { lambdaContext } from '../../local/apiGatewayEvent';
import { deliverBatch, retryIndex, type DeliveryOptions } from '../../local/streamDelivery';

const record = (seq: number, ageSeconds = 0): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: {
    SequenceNumber: String(1000 + seq),
    ApproximateCreationDateTime: Math.floor(Date.now() / 1000) - ageSeconds,
  },
});
const seqs = (records: readonly DynamoDBRecord[]) =>
  records.map((r) => Number(r.dynamodb!.SequenceNumber) - 1000);

function harness(handle: (records: number[]) => DynamoDBBatchResponse | 'throw') {
  const calls: number[][] = [];
  const discarded: number[][] = [];
  const options: DeliveryOptions = {
    settings: aggregateConsumer,
    handler: async (event: DynamoDBStreamEvent) => {
      const batch = seqs(event.Records);
      calls.push(batch);
      const outcome = handle(batch);
      if (outcome === 'throw') throw new Error('boom');
      return outcome;
    },
    context: () => lambdaContext('t', 't'),
    onDiscard: (records) => discarded.push(seqs(records)),
    backoff: async () => {},
  };
  return { calls, discarded, options };
}

const fail = (...ids: number[]): DynamoDBBatchResponse => ({
  batchItemFailures: ids.map((id) => ({ itemIdentifier: String(1000 + id) })),
});

describe('stream batch delivery (Lambda event source mapping semantics)', () => {
  it('reads a partial batch response as "retry from the lowest failed sequence number"', () => {
    const records = [record(1), record(2), record(3)];
    assert.equal(retryIndex(records, { batchItemFailures: [] }), -1);
    assert.equal(retryIndex(records, undefined), -1);
    assert.equal(retryIndex(records, fail(3, 2)), 1);
    assert.equal(retryIndex(records, { batchItemFailures: [{ itemIdentifier: '' }] }), 0);
    assert.equal(retryIndex(records, fail(99)), 0);
  });

  it('retries only from the lowest failed record', async () => {
    // Prepare: record 3 fails once.
    let failed = false;
    const { calls, discarded, options } = harness((batch) => {
      if (!failed && batch.includes(3)) {
        failed = true;
        return fail(3, 4);
      }
      return { batchItemFailures: [] };
    });
    // Act
    await deliverBatch(
      [1, 2, 3, 4, 5].map((n) => record(n)),
      options,
    );
    // Assess
    assert.deepEqual(calls, [
      [1, 2, 3, 4, 5],
      [3, 4, 5],
    ]);
    assert.deepEqual(discarded, []);
  });

  it('bisects a batch whose invocation throws until the poison record is alone, then gives up on it after the retries', async () => {
    const { calls, discarded, options } = harness((batch) =>
      batch.includes(3) ? 'throw' : { batchItemFailures: [] },
    );
    await deliverBatch(
      [1, 2, 3, 4].map((n) => record(n)),
      options,
    );
    assert.deepEqual(calls.slice(0, 4), [[1, 2, 3, 4], [1, 2], [3, 4], [3]]);
    // [3] alone: 1 try + retryAttempts retries, then discarded; [4] still delivered.
    assert.equal(
      calls.filter((c) => c.length === 1 && c[0] === 3).length,
      aggregateConsumer.retryAttempts + 1,
    );
    assert.deepEqual(calls.at(-1), [4]);
    assert.deepEqual(discarded, [[3]]);
  });

  it('gives up after retryAttempts retries without bisecting when bisect is off', async () => {
    const { calls, discarded, options } = harness(() => 'throw');
    await deliverBatch([record(1), record(2)], {
      ...options,
      settings: { ...alertConsumer, bisectBatchOnError: false },
    });
    assert.equal(calls.length, alertConsumer.retryAttempts + 1);
    assert.deepEqual(discarded, [[1, 2]]);
  });

  it('discards records older than maxRecordAgeSeconds without invoking', async () => {
    const { calls, discarded, options } = harness(() => ({ batchItemFailures: [] }));
    await deliverBatch([record(1, alertConsumer.maxRecordAgeSeconds + 5)], {
      ...options,
      settings: alertConsumer,
    });
    assert.deepEqual(calls, []);
    assert.deepEqual(discarded, [[1]]);
  });
});
