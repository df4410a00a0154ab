import { Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** What the interceptor calls: BatchWriteItem for records, PutItem/UpdateItem for heartbeats. */
export const REQUEST_LOG_WRITER_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

/** What the interceptor calls on the Deltas table: BatchWriteItem for its deltas (PutItem for one). */
export const DELTA_WRITER_ACTIONS = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'] as const;

export interface RequestLogWriterPolicyProps {
  /** The RequestLog table (call records and heartbeats). */
  readonly table: ITable;
  /** The Deltas table (the monitor's per-minute statistics, every statsFlushMs). */
  readonly deltaTable: ITable;
}

/**
 * The managed policy a user attaches to the gRPC service's role: it may write records to the
 * RequestLog table and deltas to the Deltas table, and nothing else (no reads, no deletes, no
 * other table, no index).
 */
export class RequestLogWriterPolicy extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: RequestLogWriterPolicyProps) {
    super(scope, id);
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: 'Lets a gRPC service with the gRPC Monitor interceptor write call records and deltas',
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...REQUEST_LOG_WRITER_ACTIONS],
          resources: [props.table.tableArn],
        }),
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...DELTA_WRITER_ACTIONS],
          resources: [props.deltaTable.tableArn],
        }),
      ],
    });
  }
}
