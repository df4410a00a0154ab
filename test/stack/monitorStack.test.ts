import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { App, Validations } from 'aws-cdk-lib';
import { DEFAULT_ALERT_RULES } from '../../core/alerts/config';
import { API_ROUTES } from '../../core/apiRoutes';
import { ENV } from '../../core/config';
import { aggregateConsumer, alertConsumer } from '../../core/streamConsumers';
import { MonitorStack } from '../../lib/monitorStack';
import { StreamConsumer } from '../../lib/streamConsumer';
import { toFilterPatterns } from '../../core/streamFilter';
import { createTableInput, deltaTable, requestLogTable, statsTable } from '../../core/tables';
import { httpApiPath } from '../../lib/monitorApi';
import { DELTA_WRITER_ACTIONS, REQUEST_LOG_WRITER_ACTIONS } from '../../lib/requestLogWriterPolicy';
import { STATS_RECOMPUTE_ACTIONS, STATS_WRITE_ACTIONS, TABLE_READ_ACTIONS } from '../../lib/tableAccess';
import { synthMonitorStack, type CfnResource } from './synth';

// Prepare: one synthesis for the whole file, with every optional context value given.
const ALERT_RULES_OVERRIDE = { errorRate: { thresholdPercent: 10 }, cooldownSeconds: 600 };
const synth = synthMonitorStack({
  alertEmail: 'ops@example.com',
  corsAllowOrigins: 'https://dash.example.com',
  alertRules: JSON.stringify(ALERT_RULES_OVERRIDE),
  shards: '4',
  slowThresholdMs: '750',
  sampleSuccess: '0.05',
  statsFlushMs: '5000',
});
const { stack, template, resources, outputs, ofType } = synth;

const ref = (resource: { node: { defaultChild?: unknown } }) => ({
  Ref: stack.resolve((resource.node.defaultChild as { logicalId: string }).logicalId),
});
const logicalId = (resource: { node: { defaultChild?: unknown } }): string =>
  stack.resolve((resource.node.defaultChild as { logicalId: string }).logicalId);
const requestLogId = logicalId(stack.tables.requestLog);
const statsId = logicalId(stack.tables.stats);
const deltasId = logicalId(stack.tables.deltas);
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
/** The logical id of a MonitorFunction's role policy (its grants). */
const policyOf = (fn: { role: { node: { findChild(id: string): unknown } } }) =>
  logicalId(fn.role.node.findChild('DefaultPolicy') as { node: { defaultChild?: unknown } });
const topicRef = ref(stack.alertTopic.topic);

function functionsById(): Map<string, CfnResource> {
  return new Map(ofType('AWS::Lambda::Function'));
}

/** Every IAM statement of identity policies (inline and managed) in the template. */
function identityStatements(): { id: string; statement: Record<string, unknown> }[] {
  return [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')].flatMap(([id, r]) =>
    (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.map((statement) => ({
      id,
      statement,
    })),
  );
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

describe('tables', () => {
  it('builds RequestLog from the core definition: key, INCLUDE GSIs, TTL, stream, on-demand, PITR, KMS', () => {
    const table = resources[requestLogId]!;
    const expected = createTableInput(requestLogTable, 'unused');
    assert.deepEqual(table.Properties.KeySchema, expected.KeySchema);
    assert.deepEqual(
      new Set(table.Properties.AttributeDefinitions as unknown[]),
      new Set(expected.AttributeDefinitions),
    );
    assert.deepEqual(table.Properties.GlobalSecondaryIndexes, expected.GlobalSecondaryIndexes);
    assert.deepEqual(
      (table.Properties.GlobalSecondaryIndexes as { IndexName: string }[]).map((i) => i.IndexName),
      ['by_time', 'by_service', 'by_status'],
    );
    assert.deepEqual(table.Properties.TimeToLiveSpecification, {
      AttributeName: 'expires_at',
      Enabled: true,
    });
    assert.deepEqual(table.Properties.StreamSpecification, { StreamViewType: 'NEW_AND_OLD_IMAGES' });
    assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.deepEqual(table.Properties.SSESpecification, { SSEEnabled: true });
    assert.equal(table.Properties.DeletionProtectionEnabled, true);
    assert.equal(table.DeletionPolicy, 'Retain');
  });

  it('builds Stats from the core definition: pk/sk, TTL, no stream, no GSI', () => {
    const table = resources[statsId]!;
    const expected = createTableInput(statsTable, 'unused');
    assert.deepEqual(table.Properties.KeySchema, expected.KeySchema);
    assert.deepEqual(table.Properties.AttributeDefinitions, expected.AttributeDefinitions);
    assert.equal(table.Properties.GlobalSecondaryIndexes, undefined);
    assert.equal(table.Properties.StreamSpecification, undefined);
    assert.deepEqual(table.Properties.TimeToLiveSpecification, {
      AttributeName: 'expires_at',
      Enabled: true,
    });
    assert.equal(table.Properties.DeletionProtectionEnabled, true);
  });

  it('builds Deltas from the core definition: pk/sk, TTL, a KEYS_ONLY stream, on-demand, PITR, KMS', () => {
    const table = resources[deltasId]!;
    const expected = createTableInput(deltaTable, 'unused');
    assert.deepEqual(table.Properties.KeySchema, expected.KeySchema);
    assert.deepEqual(table.Properties.AttributeDefinitions, expected.AttributeDefinitions);
    assert.equal(table.Properties.GlobalSecondaryIndexes, undefined);
    assert.deepEqual(table.Properties.StreamSpecification, { StreamViewType: 'KEYS_ONLY' });
    assert.deepEqual(table.Properties.TimeToLiveSpecification, {
      AttributeName: 'expires_at',
      Enabled: true,
    });
    assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.deepEqual(table.Properties.SSESpecification, { SSEEnabled: true });
    assert.equal(table.Properties.DeletionProtectionEnabled, true);
    assert.equal(table.DeletionPolicy, 'Retain');
  });

  it('has exactly the three tables', () => {
    assert.deepEqual(
      ofType('AWS::DynamoDB::Table')
        .map(([id]) => id)
        .sort(),
      [deltasId, requestLogId, statsId].sort(),
    );
  });

  it('uses the very objects core/tables.ts exports (the ones local/tables.ts creates tables from)', () => {
    assert.equal(stack.tables.requestLogDefinition, requestLogTable);
    assert.equal(stack.tables.statsDefinition, statsTable);
    assert.equal(stack.tables.deltaDefinition, deltaTable);
  });
});

describe('functions', () => {
  // 2 stream consumers, the rule schedule, the authorizer, one per route.
  const expectedCount = 4 + API_ROUTES.length;

  it('runs every function on ARM64 and the newest Node.js runtime, with its own log group', () => {
    const functions = functionsById();
    assert.equal(functions.size, expectedCount);
    const logGroups = new Map(ofType('AWS::Logs::LogGroup'));
    for (const [id, fn] of functions) {
      assert.equal(fn.Properties.Runtime, 'nodejs24.x', id);
      assert.deepEqual(fn.Properties.Architectures, ['arm64'], id);
      const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      assert.equal(logGroups.get(logGroup)?.Properties.RetentionInDays, 30, id);
    }
  });

  it('gives every function the monitor config from the context, with the real table names', () => {
    for (const [id, fn] of functionsById()) {
      if (id.startsWith('ApiAuthorizer')) continue;
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      assert.deepEqual(env[ENV.requestLogTable], { Ref: requestLogId }, id);
      assert.deepEqual(env[ENV.statsTable], { Ref: statsId }, id);
      assert.deepEqual(env[ENV.deltaTable], { Ref: deltasId }, id);
      assert.equal(env[ENV.sampleSuccess], '0.05', id);
      assert.equal(env[ENV.shards], '4', id);
      assert.equal(env[ENV.slowThresholdMs], '750', id);
      assert.equal(env[ENV.retentionDays], '30', id);
      assert.equal(env[ENV.apiToken], undefined, `${id} must not see the token`);
    }
  });

  it('gives the alert consumer and the rule schedule the topic and the merged, validated rules', () => {
    const expectedRules = JSON.stringify({
      ...DEFAULT_ALERT_RULES,
      errorRate: { ...DEFAULT_ALERT_RULES.errorRate, thresholdPercent: 10 },
      cooldownSeconds: 600,
    });
    for (const construct of [stack.alertFunction, stack.ruleEvaluationFunction]) {
      const fn = resources[logicalId(construct.function)]!;
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      assert.deepEqual(env[ENV.topicArn], topicRef);
      assert.deepEqual(JSON.parse(env[ENV.alertRules] as string), JSON.parse(expectedRules));
    }
    const evaluation = resources[logicalId(stack.ruleEvaluationFunction.function)]!;
    assert.equal(evaluation.Properties.Handler, 'index.evaluationHandler');
  });

  it('gives the authorizer only the secret ARN, never the token', () => {
    const fn = resources[logicalId(stack.api.authorizerFunction.function)]!;
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    assert.deepEqual(Object.keys(env), [ENV.apiTokenSecret]);
    assert.deepEqual(env[ENV.apiTokenSecret], ref(stack.api.tokenSecret));
  });

  it('runs the aggregate Lambda one invocation at a time (reserved concurrency 1), and no other function is capped', () => {
    const reserved = [...functionsById()]
      .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
      .map(([id, fn]) => [id, fn.Properties.ReservedConcurrentExecutions]);
    assert.deepEqual(reserved, [[logicalId(stack.aggregateFunction.function), 1]]);
  });

  it('runs the aggregate close pass every minute from EventBridge, dropping stale events', () => {
    const aggregateId = logicalId(stack.aggregateFunction.function);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [aggregateId, 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [aggregateId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(stack.aggregateSchedule), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: aggregateId },
      MaximumEventAgeInSeconds: 60,
      MaximumRetryAttempts: 0,
    });
    assert.equal(ofType('AWS::Events::Rule').length, 2);
  });

  it('runs the rule evaluation every minute from EventBridge', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(stack.ruleEvaluationFunction.function), 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 },
        }),
      ],
    });
  });
});

describe('stream event sources', () => {
  const cases = [
    {
      name: 'aggregate',
      table: () => deltasId,
      settings: aggregateConsumer,
      fn: () => stack.aggregateFunction,
      consumer: () => stack.aggregateConsumer,
    },
    {
      name: 'alert',
      table: () => requestLogId,
      settings: alertConsumer,
      fn: () => stack.alertFunction,
      consumer: () => stack.alertConsumer,
    },
  ];
  for (const { name, table, settings, fn, consumer } of cases) {
    it(`feeds ${name} from its stream with the core settings, filter and on-failure queue`, () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: ref(fn().function),
        EventSourceArn: { 'Fn::GetAtt': [table(), 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: settings.batchSize,
        MaximumBatchingWindowInSeconds: settings.maxBatchingWindowSeconds,
        MaximumRetryAttempts: settings.retryAttempts,
        MaximumRecordAgeInSeconds: settings.maxRecordAgeSeconds,
        BisectBatchOnFunctionError: true,
        ParallelizationFactor: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(consumer().onFailureQueue), 'Arn'] } },
        },
        FilterCriteria: {
          Filters: toFilterPatterns(settings.filter).map((p) => ({ Pattern: JSON.stringify(p) })),
        },
      });
    });
  }

  it('reads the Deltas stream with core aggregate batching (small window, bounded retries) and drops TTL removals', () => {
    assert.ok(aggregateConsumer.maxBatchingWindowSeconds <= 1);
    assert.ok(aggregateConsumer.retryAttempts > 0 && aggregateConsumer.retryAttempts <= 10);
    assert.ok(aggregateConsumer.maxRecordAgeSeconds <= 24 * 3600);
    assert.deepEqual(toFilterPatterns(aggregateConsumer.filter), [{ eventName: ['INSERT', 'MODIFY'] }]);
  });

  it('refuses a NewImage filter on a KEYS_ONLY stream (Lambda would deliver nothing)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const other = new MonitorStack(app, 'KeysOnly');
    assert.throws(
      () =>
        new StreamConsumer(other, 'Wrong', {
          table: other.tables.deltas,
          streamViewType: 'KEYS_ONLY',
          function: other.alertFunction.function,
          settings: alertConsumer, // filters on NewImage (status, slow)
        }),
      /Wrong: a filter on NewImage cannot match a KEYS_ONLY stream/,
    );
  });

  it('has exactly these two mappings, and encrypted, TLS-only on-failure queues', () => {
    assert.equal(ofType('AWS::Lambda::EventSourceMapping').length, 2);
    for (const [, queue] of ofType('AWS::SQS::Queue')) {
      assert.equal(queue.Properties.SqsManagedSseEnabled, true);
    }
    assert.equal(ofType('AWS::SQS::QueuePolicy').length, 2);
  });
});

describe('IAM', () => {
  it('has no wildcard action anywhere and no AWS managed policy on any role', () => {
    for (const { id, statement } of identityStatements()) {
      for (const action of asList(statement.Action)) {
        assert.ok(typeof action === 'string' && !action.includes('*'), `${id}: action ${String(action)}`);
      }
    }
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      assert.equal(role.Properties.ManagedPolicyArns, undefined, id);
    }
  });

  it('limits the gRPC service policy to writes on RequestLog and BatchWriteItem/PutItem on Deltas', () => {
    const policy = resources[logicalId(stack.writerPolicy.policy)]!;
    assert.equal(policy.Type, 'AWS::IAM::ManagedPolicy');
    assert.deepEqual((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement, [
      {
        Effect: 'Allow',
        Action: [...REQUEST_LOG_WRITER_ACTIONS],
        Resource: { 'Fn::GetAtt': [requestLogId, 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: [...DELTA_WRITER_ACTIONS],
        Resource: { 'Fn::GetAtt': [deltasId, 'Arn'] },
      },
    ]);
    assert.deepEqual(DELTA_WRITER_ACTIONS, ['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
    assert.deepEqual(REQUEST_LOG_WRITER_ACTIONS, [
      'dynamodb:BatchWriteItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('lets the aggregate Lambda read Deltas (and its stream), recompute Stats, and touch nothing of RequestLog', () => {
    const statements = identityStatements()
      .filter(({ id }) => id === policyOf(stack.aggregateFunction))
      .map(({ statement }) => statement);
    const dynamo = statements.filter((st) =>
      asList(st.Action).some((a) => String(a).startsWith('dynamodb:')),
    );
    const onTable = (id: string) =>
      dynamo.filter((st) => JSON.stringify(asList(st.Resource)) === JSON.stringify([arnOf(id)]));
    assert.deepEqual(
      onTable(deltasId).map((st) => st.Action),
      [[...TABLE_READ_ACTIONS]],
    );
    assert.deepEqual(
      onTable(statsId).map((st) => st.Action),
      [[...STATS_RECOMPUTE_ACTIONS]],
    );
    assert.deepEqual(
      [...STATS_RECOMPUTE_ACTIONS].sort(),
      [...STATS_WRITE_ACTIONS, 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'].sort(),
    );
    // The event source's stream reads name the Deltas stream; nothing names RequestLog.
    const streamReads = dynamo.filter((st) => asList(st.Action).includes('dynamodb:GetRecords'));
    assert.deepEqual(
      streamReads.map((st) => st.Resource),
      [{ 'Fn::GetAtt': [deltasId, 'StreamArn'] }],
    );
    assert.ok(!JSON.stringify(statements).includes(requestLogId));
  });

  it('lets the alert consumer and the rule evaluation read Deltas (the open minutes of a window)', () => {
    for (const fn of [stack.alertFunction, stack.ruleEvaluationFunction]) {
      const reads = identityStatements().filter(
        ({ id, statement }) =>
          id === policyOf(fn) && JSON.stringify(statement.Resource) === JSON.stringify(arnOf(deltasId)),
      );
      assert.deepEqual(
        reads.map(({ statement }) => statement.Action),
        [[...TABLE_READ_ACTIONS]],
      );
    }
  });

  it('lets API handlers only read (Query/GetItem/BatchGetItem) the three tables; the overview also PutItem on Stats', () => {
    const roleOf = (name: string) =>
      logicalId(stack.api.routeFunctions.get(name)!.role.node.findChild('DefaultPolicy'));
    const apiRoles = [...stack.api.routeFunctions.keys()].map(roleOf);
    const dynamoStatements = identityStatements().filter(
      ({ id, statement }) =>
        apiRoles.includes(id) && asList(statement.Action).some((a) => String(a).startsWith('dynamodb:')),
    );
    const writes = dynamoStatements.filter(
      ({ statement }) =>
        statement.Action !== undefined &&
        !asList(statement.Action).every((a) => (TABLE_READ_ACTIONS as readonly unknown[]).includes(a)),
    );
    // Readers write nothing: Stats are only ever written by the aggregator.
    assert.equal(writes.length, 0);
    const reads = dynamoStatements.filter((s) => !writes.includes(s));
    // Three tables per route, but the dashboard page (`ui`), which reads none.
    assert.equal(reads.length, (apiRoles.length - 1) * 3);
    for (const { statement } of reads) assert.deepEqual(statement.Action, [...TABLE_READ_ACTIONS]);
    for (const role of apiRoles.filter((r) => r !== roleOf('ui'))) {
      assert.ok(
        reads.some(
          ({ id, statement }) =>
            id === role && JSON.stringify(statement.Resource) === JSON.stringify(arnOf(deltasId)),
        ),
        `${role} reads Deltas`,
      );
    }
  });

  it('lets only the authorizer read the token secret, and only the requests route the cursor secret', () => {
    const readers = identityStatements().filter(({ statement }) =>
      asList(statement.Action).includes('secretsmanager:GetSecretValue'),
    );
    const requests = stack.api.routeFunctions.get('requests')!;
    const policyOf = (f: typeof requests) => logicalId(f.role.node.findChild('DefaultPolicy'));
    const readersOf = (secret: typeof stack.api.tokenSecret) =>
      readers
        .filter((r) => JSON.stringify(r.statement.Resource) === JSON.stringify(ref(secret)))
        .map((r) => r.id);
    assert.deepEqual(readersOf(stack.api.tokenSecret), [policyOf(stack.api.authorizerFunction)]);
    assert.deepEqual(readersOf(stack.api.cursorSecret), [policyOf(requests)]);
    assert.equal(readers.length, 2);
    const env = (
      resources[logicalId(requests.function)]!.Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    assert.deepEqual(env[ENV.cursorSecretId], ref(stack.api.cursorSecret));
    assert.equal(env[ENV.apiTokenSecret], undefined);
  });
});

describe('API', () => {
  it('has one GET route per API_ROUTES entry; public ones without, the others with the authorizer', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    // Plus the public greedy route that sends `/x/` to `/x` (test/stack/apiGateway.test.ts).
    assert.equal(routes.length, API_ROUTES.length + 1);
    const authorizerId = { Ref: logicalId(stack.api.api.node.findChild('BearerToken')) };
    for (const route of API_ROUTES) {
      const deployed = routes.find((r) => r.RouteKey === `GET ${httpApiPath(route.path)}`);
      assert.ok(deployed, route.path);
      if (route.public) {
        assert.equal(deployed.AuthorizationType, 'NONE', route.path);
      } else {
        assert.equal(deployed.AuthorizationType, 'CUSTOM', route.path);
        assert.deepEqual(deployed.AuthorizerId, authorizerId, route.path);
      }
    }
    assert.deepEqual(
      [...stack.api.routeFunctions.keys()],
      API_ROUTES.map((r) => r.name),
    );
  });

  it('deploys trailing-slash contract paths without the slash (API Gateway answers /x/ on /x)', () => {
    assert.equal(httpApiPath('/cfg/grpc/monitor/overview/'), '/cfg/grpc/monitor/overview');
    assert.equal(
      httpApiPath('/cfg/grpc/monitor/requests/{request_id}/'),
      '/cfg/grpc/monitor/requests/{request_id}',
    );
    assert.equal(httpApiPath('/'), '/');
  });

  it('checks the bearer token with a simple-response Lambda authorizer on the Authorization header', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 300,
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'grpc-monitor/api-token',
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
  });

  it('throttles the stage, writes JSON access logs, and allows the configured CORS origin', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack.api.accessLogs), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://dash.example.com'],
        AllowHeaders: Match.arrayWith(['authorization']),
      }),
    });
  });
});

describe('alert topic', () => {
  it('denies publishing without TLS and lets only this account’s CloudWatch alarms in', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });

  it('subscribes the alertEmail address', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicRef,
    });
  });
});

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  it('sends every alarm and its recovery to the alert topic', () => {
    // On-failure + iterator age per consumer, errors + throttles per function (but the aggregate's
    // throttles, by design), API 5xx, 3 tables.
    assert.equal(alarms().length, 2 * 2 + 2 * functionsById().size - 1 + 1 + 3);
    for (const alarm of alarms()) {
      assert.deepEqual(alarm.AlarmActions, [topicRef], String(alarm.AlarmDescription));
      assert.deepEqual(alarm.OKActions, [topicRef], String(alarm.AlarmDescription));
    }
  });

  it('alarms when an on-failure queue holds a message', () => {
    for (const consumer of [stack.aggregateConsumer, stack.alertConsumer]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(consumer.onFailureQueue), 'QueueName'] } },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('alarms when a stream consumer’s iterator age passes a minute', () => {
    for (const fn of [stack.aggregateFunction, stack.alertFunction]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: ref(fn.function) }],
        Statistic: 'Maximum',
        Threshold: 60_000,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on the delta lag: the aggregate’s iterator age on the Deltas stream', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'Aggregate: Deltas stream records wait longer than 1 minute',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: ref(stack.aggregateFunction.function) }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'Alert: RequestLog stream records wait longer than 1 minute',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: ref(stack.alertFunction.function) }],
    });
  });

  it('does not alarm on the aggregate’s throttles: its reserved concurrency of 1 serializes invocations', () => {
    const aggregateId = logicalId(stack.aggregateFunction.function);
    const throttles = alarms().filter(
      (a) => a.MetricName === 'Throttles' && JSON.stringify(a.Dimensions).includes(`"${aggregateId}"`),
    );
    assert.deepEqual(throttles, []);
  });

  it('alarms on errors of every function and throttles of every other function', () => {
    const aggregateId = logicalId(stack.aggregateFunction.function);
    for (const [id] of functionsById()) {
      for (const metric of id === aggregateId ? ['Errors'] : ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }],
          Threshold: 1,
        });
      }
    }
  });

  it('alarms on the API 5xx rate and on DynamoDB throttling of each table and GSI', () => {
    const rate = alarms().find((a) => String(a.AlarmDescription).startsWith('API:'));
    const metrics = rate?.Metrics as {
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    assert.equal(
      metrics.find((m) => m.Expression)?.Expression,
      '100 * errors / IF(requests > 0, requests, 1)',
    );
    assert.deepEqual(metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])).sort(), [
      '5xx',
      'Count',
    ]);
    assert.equal(rate?.Threshold, 5);
    const deltas = alarms().find((a) => String(a.AlarmDescription).startsWith('Deltas:'));
    const deltaMetrics = (deltas?.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[]).flatMap(
      (m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []),
    );
    assert.deepEqual(deltaMetrics.sort(), ['ReadThrottleEvents', 'WriteThrottleEvents']);
    const requestLog = alarms().find((a) => String(a.AlarmDescription).startsWith('RequestLog:'));
    const dims = (
      requestLog?.Metrics as {
        MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] } };
      }[]
    ).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    // Read and write throttle events for the table and each of its 3 GSIs.
    assert.equal(dims.length, 8);
    assert.deepEqual(
      new Set(
        dims.flatMap((m) =>
          m.Dimensions.filter((d) => d.Name === 'GlobalSecondaryIndexName').map((d) => d.Value),
        ),
      ),
      new Set(['by_time', 'by_service', 'by_status']),
    );
  });
});

describe('outputs', () => {
  it('exports the API URL, table names, topic ARN, secret name and the gRPC service policy', () => {
    assert.deepEqual(Object.keys(outputs).sort(), [
      'AlertTopicArn',
      'ApiTokenSecretName',
      'ApiUrl',
      'DeltaTableName',
      'GrpcServiceEnvironment',
      'GrpcServicePolicyArn',
      'RequestLogTableName',
      'StatsTableName',
    ]);
    assert.deepEqual(outputs.RequestLogTableName!.Value, { Ref: requestLogId });
    assert.deepEqual(outputs.StatsTableName!.Value, { Ref: statsId });
    assert.deepEqual(outputs.DeltaTableName!.Value, { Ref: deltasId });
    assert.deepEqual(outputs.AlertTopicArn!.Value, topicRef);
    assert.equal(outputs.ApiTokenSecretName!.Value, 'grpc-monitor/api-token');
    assert.deepEqual(outputs.GrpcServicePolicyArn!.Value, ref(stack.writerPolicy.policy));
    assert.deepEqual(outputs.GrpcServiceEnvironment!.Value, {
      'Fn::Join': [
        '',
        [
          'GRPC_MONITOR_TABLE=',
          { Ref: requestLogId },
          ' GRPC_MONITOR_DELTA_TABLE=',
          { Ref: deltasId },
          ' GRPC_MONITOR_SHARDS=4 GRPC_MONITOR_SLOW_MS=750 GRPC_MONITOR_RETENTION_DAYS=30' +
            ' GRPC_MONITOR_SAMPLE_SUCCESS=0.05 GRPC_MONITOR_STATS_FLUSH_MS=5000',
        ],
      ],
    });
    assert.deepEqual(outputs.ApiUrl!.Value, {
      'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.api.api), 'ApiEndpoint'] }, '/cfg/grpc/monitor/']],
    });
  });
});

describe('cdk-nag', () => {
  it('passes the AwsSolutions checks, every finding left acknowledged with a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    assert.deepEqual(
      report.violations.map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
      [],
    );
    assert.equal(report.success, true);
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    // The accepted findings, each a design decision explained where it is made.
    assert.deepEqual(
      new Set(acknowledged.map(([id]) => id.replace(/^Annotation::/, ''))),
      new Set([
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-SQS3',
        'AwsSolutions-SMG4',
        'AwsSolutions-APIG4',
        `AwsSolutions-IAM5[Resource::<${requestLogId}.Arn>/index/*]`,
      ]),
    );
    for (const [id, reason] of acknowledged) assert.ok(reason.length > 40, id);
  });
});
