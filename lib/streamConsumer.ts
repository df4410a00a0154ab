import { Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StreamConsumerSettings } from '../core/streamConsumers';
import { toFilterPatterns } from '../core/streamFilter';
import type { TableDefinition } from '../core/tables';

export interface StreamConsumerProps {
  /** The table whose stream feeds the function. */
  readonly table: ITable;
  /** The stream's view type: the `stream` of the table's definition in core/tables.ts. */
  readonly streamViewType: TableDefinition['stream'];
  readonly function: IFunction;
  /** Batching, retries and filter, shared with the local pollers (`core/streamConsumers.ts`). */
  readonly settings: StreamConsumerSettings;
}

/**
 * Feeds a table's stream to a function with the consumer's settings from `core/`, and keeps
 * what the function could not process (after bounded retries or record age) in an encrypted
 * SQS on-failure queue: Lambda sends the batch's shard and sequence range there, so the records
 * can be found again in the stream while they are still within its 24 hours.
 */
export class StreamConsumer extends Construct {
  readonly onFailureQueue: Queue;
  readonly eventSource: DynamoEventSource;

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    const { settings } = props;
    if (props.streamViewType === undefined) throw new Error(`${id}: the table has no stream`);
    if (props.streamViewType === 'KEYS_ONLY' && settings.filter.patterns.some((p) => p.newImage)) {
      // Lambda would silently deliver nothing: a keys-only record has no NewImage to match.
      throw new Error(`${id}: a filter on NewImage cannot match a KEYS_ONLY stream`);
    }
    this.onFailureQueue = new Queue(this, 'OnFailure', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.eventSource = new DynamoEventSource(props.table, {
      startingPosition: StartingPosition[settings.startingPosition],
      batchSize: settings.batchSize,
      maxBatchingWindow: Duration.seconds(settings.maxBatchingWindowSeconds),
      retryAttempts: settings.retryAttempts,
      maxRecordAge: Duration.seconds(settings.maxRecordAgeSeconds),
      bisectBatchOnError: settings.bisectBatchOnError,
      reportBatchItemFailures: settings.reportBatchItemFailures,
      parallelizationFactor: settings.parallelizationFactor,
      onFailure: new SqsDlq(this.onFailureQueue),
      filters: toFilterPatterns(settings.filter).map((pattern) => FilterCriteria.filter(pattern)),
    });
    props.function.addEventSource(this.eventSource);

    Validations.of(this.onFailureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is itself the stream consumer's on-failure destination (its dead-letter queue).",
    });
    if (props.function.role) {
      Validations.of(props.function.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'dynamodb:ListStreams, which the stream event source needs, has no resource-level permissions; every other stream action names the stream ARN.',
      });
    }
  }
}
