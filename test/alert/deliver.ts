import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { alertConsumer } from '../../core/streamConsumers';
import { matchesFilter } from '../../core/streamFilter';

/**
 * What Lambda does between the stream and the alert handler: drop what the deployed filter
 * drops, cut the rest into batches of the consumer's size, invoke in order. Returns the
 * records delivered and the failures the handler reported.
 */
export async function deliver(
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>,
  records: readonly DynamoDBRecord[],
): Promise<{ delivered: number; failures: string[] }> {
  const passing = records.filter((r) => matchesFilter(alertConsumer.filter, r));
  const failures: string[] = [];
  for (let i = 0; i < passing.length; i += alertConsumer.batchSize) {
    const response = await handler({ Records: passing.slice(i, i + alertConsumer.batchSize) });
    failures.push(...response.batchItemFailures.map((f) => f.itemIdentifier));
  }
  return { delivered: passing.length, failures };
}
