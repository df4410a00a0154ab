import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface WatchedStreamConsumer {
  readonly name: string;
  readonly function: IFunction;
  readonly onFailureQueue: IQueue;
  /** The table whose stream the function reads (named in the alarm descriptions). */
  readonly streamOf: string;
}

export interface WatchedTable {
  readonly name: string;
  readonly table: ITable;
  readonly indexNames: readonly string[];
}

export interface MonitorAlarmsProps {
  /** Where every alarm (and its return to OK) is sent. */
  readonly topic: ITopic;
  /** Stream consumers: on-failure queue not empty, iterator age over `maxIteratorAge`. */
  readonly streamConsumers: readonly WatchedStreamConsumer[];
  /** Every function: errors and throttles. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /**
   * Names in `functions` throttled by design (a reserved concurrency of 1 that serializes their
   * invocations): no throttle alarm, since their lag shows in the iterator age instead.
   * @default - none
   */
  readonly throttledByDesign?: ReadonlySet<string>;
  /** The API: share of 5xx answers over `max5xxPercent`. */
  readonly api: HttpApi;
  /** Tables (and their GSIs): any throttled read or write. */
  readonly tables: readonly WatchedTable[];
  /** @default Duration.minutes(1) */
  readonly maxIteratorAge?: Duration;
  /** @default 5 */
  readonly max5xxPercent?: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms on the monitor itself, all sent to the alert topic: lost stream records, a lagging
 * stream, failing or throttled Lambdas, API 5xx answers, and DynamoDB throttling.
 */
export class MonitorAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: MonitorAlarmsProps) {
    super(scope, id);
    this.action = new SnsAction(props.topic);
    const maxIteratorAge = props.maxIteratorAge ?? Duration.minutes(1);

    for (const consumer of props.streamConsumers) {
      this.add(`${consumer.name}OnFailure`, {
        description: `${consumer.name}: ${consumer.streamOf} stream records were given up on (see the on-failure queue)`,
        metric: consumer.onFailureQueue.metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        threshold: 1,
      });
      this.add(`${consumer.name}IteratorAge`, {
        description: `${consumer.name}: ${consumer.streamOf} stream records wait longer than ${maxIteratorAge.toHumanString()}`,
        metric: consumer.function.metric('IteratorAge', {
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: maxIteratorAge.toMilliseconds(),
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      });
    }

    for (const [name, fn] of props.functions) {
      this.add(`${name}Errors`, {
        description: `${name}: the Lambda failed`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
      });
      if (props.throttledByDesign?.has(name)) continue;
      this.add(`${name}Throttles`, {
        description: `${name}: the Lambda was throttled`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
      });
    }

    const max5xx = props.max5xxPercent ?? 5;
    this.add('Api5xxRate', {
      description: `API: more than ${max5xx} % of answers were 5xx`,
      metric: new MathExpression({
        expression: '100 * errors / IF(requests > 0, requests, 1)',
        usingMetrics: {
          errors: props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
          requests: props.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
        },
        label: 'API 5xx %',
        period: FIVE_MINUTES,
      }),
      threshold: max5xx,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    for (const watched of props.tables) {
      this.add(`${watched.name}Throttles`, {
        description: `${watched.name}: DynamoDB throttled reads or writes (table or index)`,
        metric: tableThrottles(watched),
        threshold: 1,
      });
    }
  }

  private add(
    id: string,
    options: {
      description: string;
      metric: IMetric;
      threshold: number;
      comparisonOperator?: ComparisonOperator;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      ...(options.datapointsToAlarm !== undefined && { datapointsToAlarm: options.datapointsToAlarm }),
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }
}

/** Read and write throttle events of a table and each of its GSIs, summed. */
function tableThrottles(watched: WatchedTable): MathExpression {
  const metric = (metricName: string, indexName?: string) =>
    new Metric({
      namespace: 'AWS/DynamoDB',
      metricName,
      dimensionsMap: {
        TableName: watched.table.tableName,
        ...(indexName !== undefined && { GlobalSecondaryIndexName: indexName }),
      },
      period: FIVE_MINUTES,
      statistic: 'Sum',
    });
  const usingMetrics: Record<string, IMetric> = {};
  for (const [i, indexName] of [undefined, ...watched.indexNames].entries()) {
    usingMetrics[`r${i}`] = metric('ReadThrottleEvents', indexName);
    usingMetrics[`w${i}`] = metric('WriteThrottleEvents', indexName);
  }
  return new MathExpression({
    expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
    usingMetrics,
    label: `${watched.name} throttle events`,
    period: FIVE_MINUTES,
  });
}
