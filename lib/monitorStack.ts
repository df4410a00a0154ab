import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { alertRulesToEnv } from '../core/alerts/config';
import { API_BASE_PATH, API_ROUTES } from '../core/apiRoutes';
import { configToEnv, DEFAULTS, ENV, type MonitorConfig } from '../core/config';
import { aggregateConsumer, alertConsumer } from '../core/streamConsumers';
import { AlertTopic } from './alertTopic';
import { MonitorAlarms } from './monitorAlarms';
import { MonitorApi } from './monitorApi';
import { MonitorFunction } from './monitorFunction';
import { SETTINGS_DEFAULTS, type MonitorSettings } from './monitorSettings';
import { MonitorTables } from './monitorTables';
import { RequestLogWriterPolicy } from './requestLogWriterPolicy';
import { StreamConsumer } from './streamConsumer';
import { grantStatsRecompute, grantStatsWrite, grantTableRead } from './tableAccess';

/**
 * What the interceptor must share with the stack: the tables, shard count, slow threshold, TTL,
 * log sampling rate, and how often it ships its deltas.
 */
export function grpcServiceEnvironment(config: MonitorConfig, statsFlushMs: number): string {
  const env: Record<string, string> = { ...configToEnv(config), [ENV.statsFlushMs]: String(statsFlushMs) };
  return [
    ENV.requestLogTable,
    ENV.deltaTable,
    ENV.shards,
    ENV.slowThresholdMs,
    ENV.retentionDays,
    ENV.sampleSuccess,
    ENV.statsFlushMs,
  ]
    .map((name) => `${name}=${env[name]}`)
    .join(' ');
}

export interface MonitorStackProps extends StackProps {
  /** Deployment settings (see `lib/monitorSettings.ts`). @default SETTINGS_DEFAULTS */
  readonly settings?: MonitorSettings;
}

/**
 * The whole gRPC Monitor, wired in data-flow order: tables → stream consumers (aggregate on the
 * Deltas stream, alert on the RequestLog stream) → alert topic → API → alarms on all of it.
 */
export class MonitorStack extends Stack {
  readonly settings: MonitorSettings;
  readonly tables: MonitorTables;
  readonly writerPolicy: RequestLogWriterPolicy;
  readonly aggregateFunction: MonitorFunction;
  /** The aggregate Lambda on the Deltas stream. */
  readonly aggregateConsumer: StreamConsumer;
  /** The aggregate Lambda's close pass, every minute. */
  readonly aggregateSchedule: Rule;
  readonly alertFunction: MonitorFunction;
  readonly alertConsumer: StreamConsumer;
  readonly ruleEvaluationFunction: MonitorFunction;
  readonly ruleEvaluationSchedule: Rule;
  readonly alertTopic: AlertTopic;
  readonly api: MonitorApi;
  readonly alarms: MonitorAlarms;
  /** The config every Lambda receives as environment (`configToEnv`). */
  readonly config: MonitorConfig;

  constructor(scope: Construct, id: string, props: MonitorStackProps = {}) {
    super(scope, id, {
      description: 'gRPC Monitor: records, aggregates and watches every call to a gRPC server',
      ...props,
    });
    const settings: MonitorSettings = props.settings ?? SETTINGS_DEFAULTS;
    this.settings = settings;
    const logRetention = settings.logRetentionDays;

    this.tables = new MonitorTables(this, 'Tables', { deletionProtection: settings.deletionProtection });
    this.writerPolicy = new RequestLogWriterPolicy(this, 'GrpcServiceWriter', {
      table: this.tables.requestLog,
      deltaTable: this.tables.deltas,
    });
    // Defaults first, so a config field added later reaches every Lambda with its default.
    this.config = {
      ...DEFAULTS,
      requestLogTable: this.tables.requestLog.tableName,
      statsTable: this.tables.stats.tableName,
      deltaTable: this.tables.deltas.tableName,
      sampleSuccess: settings.sampleSuccess,
      shards: settings.shards,
      slowThresholdMs: settings.slowThresholdMs,
      retentionDays: settings.retentionDays,
      minuteRetentionHours: settings.minuteRetentionHours,
    };
    const environment = configToEnv(this.config);

    this.aggregateFunction = new MonitorFunction(this, 'Aggregate', {
      entry: 'lambdas/aggregate/index.ts',
      description:
        "gRPC Monitor: recomputes Stats from the monitors' deltas (Deltas stream, and a close pass every minute)",
      memorySize: 512,
      timeout: Duration.seconds(60),
      // The single writer of Stats. Every invocation (a stream batch from any shard of the Deltas
      // stream, or the scheduled close pass) recomputes whole Stats items from the deltas and
      // PUTs them; two invocations at once could each read a minute's deltas, one before and one
      // after a new delta, and the older result could land last. With one execution at a time no
      // two invocations ever write the same item concurrently, so no update races and no
      // transaction conflicts. A stream batch or schedule that finds it busy is throttled and
      // retried by Lambda (stream records until maxRecordAge; async events until maxEventAge).
      reservedConcurrentExecutions: 1,
      logRetention,
      environment,
    });
    grantTableRead(this.aggregateFunction.role, this.tables.deltas, false);
    grantStatsRecompute(this.aggregateFunction.role, this.tables.stats);
    this.aggregateConsumer = new StreamConsumer(this, 'AggregateStream', {
      table: this.tables.deltas,
      streamViewType: this.tables.deltaDefinition.stream,
      function: this.aggregateFunction.function,
      settings: aggregateConsumer,
    });
    // The close pass also runs with no new deltas: the last minutes of traffic still close.
    // A missed pass is covered by the next one, so stale events are dropped, not queued.
    this.aggregateFunction.function.configureAsyncInvoke({
      maxEventAge: Duration.minutes(1),
      retryAttempts: 0,
    });
    this.aggregateSchedule = new Rule(this, 'AggregateSchedule', {
      description: 'gRPC Monitor: close finished minutes into Stats',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(this.aggregateFunction.function, {
          maxEventAge: Duration.minutes(1),
          retryAttempts: 0,
        }),
      ],
    });

    this.alertTopic = new AlertTopic(this, 'Alerts', {
      ...(settings.alertEmail !== undefined && { email: settings.alertEmail }),
      kms: settings.alertTopicKms,
    });
    const alertEnvironment = {
      ...environment,
      [ENV.topicArn]: this.alertTopic.topic.topicArn,
      ...alertRulesToEnv(settings.alertRules),
    };
    this.alertFunction = new MonitorFunction(this, 'Alert', {
      entry: 'lambdas/alert/index.ts',
      description: 'gRPC Monitor: publishes alerts for failed and slow calls and rule breaches',
      memorySize: 256,
      timeout: Duration.seconds(30),
      logRetention,
      environment: alertEnvironment,
    });
    this.alertConsumer = new StreamConsumer(this, 'AlertStream', {
      table: this.tables.requestLog,
      streamViewType: this.tables.requestLogDefinition.stream,
      function: this.alertFunction.function,
      settings: alertConsumer,
    });
    // The window rules also run every minute, so a rule that cleared says so with no new error.
    this.ruleEvaluationFunction = new MonitorFunction(this, 'RuleEvaluation', {
      entry: 'lambdas/alert/index.ts',
      handler: 'evaluationHandler',
      description: 'gRPC Monitor: evaluates the alert window rules every minute',
      memorySize: 256,
      timeout: Duration.seconds(50),
      logRetention,
      environment: alertEnvironment,
    });
    this.ruleEvaluationSchedule = new Rule(this, 'RuleEvaluationSchedule', {
      description: 'gRPC Monitor: evaluate alert window rules',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(this.ruleEvaluationFunction.function, {
          // A missed minute is covered by the next one: do not pile up late evaluations.
          maxEventAge: Duration.minutes(1),
          retryAttempts: 0,
        }),
      ],
    });
    for (const fn of [this.alertFunction, this.ruleEvaluationFunction]) {
      grantStatsWrite(fn.role, this.tables.stats);
      // Window rules read Stats up to the aggregator's watermark and the open minutes from Deltas.
      grantTableRead(fn.role, this.tables.deltas, false);
      this.alertTopic.grantPublish(fn.role);
    }

    this.api = new MonitorApi(this, 'Api', {
      routes: API_ROUTES,
      readTables: [
        { table: this.tables.requestLog, withIndexes: true },
        { table: this.tables.stats, withIndexes: false },
        // Every number merges the minutes not yet closed into Stats from the deltas themselves.
        { table: this.tables.deltas, withIndexes: false },
      ],
      environment,
      tokenSecretName: settings.tokenSecretName,
      corsAllowOrigins: settings.corsAllowOrigins,
      throttleRate: settings.apiThrottleRate,
      throttleBurst: settings.apiThrottleBurst,
      logRetention,
    });

    const functions = new Map<string, IFunction>([
      ['Aggregate', this.aggregateFunction.function],
      ['Alert', this.alertFunction.function],
      ['RuleEvaluation', this.ruleEvaluationFunction.function],
      ['Authorizer', this.api.authorizerFunction.function],
      ...[...this.api.routeFunctions].map(([name, fn]): [string, IFunction] => [`Api-${name}`, fn.function]),
    ]);
    this.alarms = new MonitorAlarms(this, 'Alarms', {
      topic: this.alertTopic.topic,
      streamConsumers: [
        {
          name: 'Aggregate',
          function: this.aggregateFunction.function,
          onFailureQueue: this.aggregateConsumer.onFailureQueue,
          // Its iterator age is the delta lag: how long a shipped delta waits to be folded in.
          streamOf: 'Deltas',
        },
        {
          name: 'Alert',
          function: this.alertFunction.function,
          onFailureQueue: this.alertConsumer.onFailureQueue,
          streamOf: 'RequestLog',
        },
      ],
      functions,
      throttledByDesign: new Set(['Aggregate']),
      api: this.api.api,
      tables: [
        {
          name: 'RequestLog',
          table: this.tables.requestLog,
          indexNames: this.tables.requestLogDefinition.globalIndexes.map((i) => i.indexName),
        },
        {
          name: 'Stats',
          table: this.tables.stats,
          indexNames: this.tables.statsDefinition.globalIndexes.map((i) => i.indexName),
        },
        {
          name: 'Deltas',
          table: this.tables.deltas,
          indexNames: this.tables.deltaDefinition.globalIndexes.map((i) => i.indexName),
        },
      ],
    });

    this.addOutputs();
  }

  /** What a user needs after `cdk deploy`: where the API is, what to point the interceptor at. */
  private addOutputs(): void {
    new CfnOutput(this, 'ApiUrl', {
      value: `${this.api.url}${API_BASE_PATH}/`,
      description: 'Monitor API base URL',
    });
    new CfnOutput(this, 'RequestLogTableName', {
      value: this.tables.requestLog.tableName,
      description: `RequestLog table: set ${ENV.requestLogTable} of the gRPC service to this`,
    });
    new CfnOutput(this, 'StatsTableName', { value: this.tables.stats.tableName, description: 'Stats table' });
    new CfnOutput(this, 'DeltaTableName', {
      value: this.tables.deltas.tableName,
      description: `Deltas table: set ${ENV.deltaTable} of the gRPC service to this`,
    });
    new CfnOutput(this, 'AlertTopicArn', {
      value: this.alertTopic.topic.topicArn,
      description: 'SNS topic of alerts and alarms',
    });
    new CfnOutput(this, 'ApiTokenSecretName', {
      value: this.settings.tokenSecretName,
      description: 'Secrets Manager secret holding the API bearer token',
    });
    new CfnOutput(this, 'GrpcServiceEnvironment', {
      value: grpcServiceEnvironment(this.config, this.settings.statsFlushMs),
      description: 'Environment of the gRPC service with the interceptor (writers and readers must agree)',
    });
    new CfnOutput(this, 'GrpcServicePolicyArn', {
      value: this.writerPolicy.policy.managedPolicyArn,
      description: "Attach to the gRPC service's role: write access to the RequestLog and Deltas tables only",
    });
  }
}
