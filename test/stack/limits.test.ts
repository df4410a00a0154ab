import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Table, AttributeType } from 'aws-cdk-lib/aws-dynamodb';
import { ENV } from '../../core/config';
import {
  checkEnvironmentSize,
  DEPLOY_TIME_VALUE_BYTES,
  environmentBytes,
  LAMBDA_ENVIRONMENT_MAX_BYTES,
  LambdaEnvironmentTooLargeError,
} from '../../lib/monitorFunction';
import { synthMonitorStack, type CfnResource } from './synth';

/** Issue 18, findings 8 and 14: the dashboard route's grants, and Lambda's 4 KB environment. */

describe('the ui route (finding 8)', () => {
  const { stack, ofType } = synthMonitorStack();
  const logicalId = (c: { node: { defaultChild?: unknown } }): string =>
    stack.resolve((c.node.defaultChild as { logicalId: string }).logicalId);

  function policyOf(route: string): CfnResource | undefined {
    const fn = stack.api.routeFunctions.get(route)!;
    const id = logicalId(fn.role.node.findChild('DefaultPolicy'));
    return ofType('AWS::IAM::Policy').find(([policyId]) => policyId === id)?.[1];
  }
  const actions = (policy: CfnResource | undefined): string[] =>
    (
      (policy?.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] } | undefined)
        ?.Statement ?? []
    ).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  it('reads no table, so its role may read none', () => {
    assert.deepEqual(
      actions(policyOf('ui')).filter((a) => a.startsWith('dynamodb:')),
      [],
    );
  });

  it('while the routes that do read keep their grants (the check can fail)', () => {
    assert.ok(actions(policyOf('overview')).includes('dynamodb:Query'));
    assert.ok(actions(policyOf('health')).includes('dynamodb:Query'));
  });
});

describe('Lambda environment size, checked at synth (finding 14)', () => {
  it('counts names and values in UTF-8 bytes, a deploy-time value at its bound', () => {
    assert.equal(environmentBytes({ AB: 'cdé' }), 2 + 4);
    const stack = new Stack(new App(), 'S');
    const table = new Table(stack, 'T', { partitionKey: { name: 'k', type: AttributeType.STRING } });
    assert.equal(environmentBytes({ T: table.tableName }), 1 + DEPLOY_TIME_VALUE_BYTES);
    assert.equal(environmentBytes({ T: `x-${table.tableName}` }), 1 + 2 + DEPLOY_TIME_VALUE_BYTES);
  });

  it('lets an environment up to 4 KB through and refuses one byte more', () => {
    const name = 'N';
    const fits = { [name]: 'v'.repeat(LAMBDA_ENVIRONMENT_MAX_BYTES - 1) };
    assert.doesNotThrow(() => checkEnvironmentSize('S/F', fits));
    assert.throws(
      () => checkEnvironmentSize('S/F', { [name]: 'v'.repeat(LAMBDA_ENVIRONMENT_MAX_BYTES) }),
      LambdaEnvironmentTooLargeError,
    );
  });

  it('synthesizes the default stack, whose largest environment is well under the limit', () => {
    const { resources, stack } = synthMonitorStack();
    const sizes = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => {
        const variables = (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables;
        // Resolved CloudFormation values ({Ref}, {Fn::GetAtt}) stand for deploy-time strings.
        return Object.entries(variables ?? {}).reduce(
          (sum, [k, v]) =>
            sum +
            Buffer.byteLength(k) +
            (typeof v === 'string' ? Buffer.byteLength(v) : DEPLOY_TIME_VALUE_BYTES),
          0,
        );
      });
    assert.ok(sizes.length > 5);
    assert.ok(Math.max(...sizes) < LAMBDA_ENVIRONMENT_MAX_BYTES / 2, `largest: ${Math.max(...sizes)}`);
    assert.ok(stack.alertFunction);
  });

  it('refuses, with a clear message, alert rules too large for the alert Lambda’s environment', () => {
    const methodLimitsMs = Object.fromEntries(
      Array.from({ length: 150 }, (_, i) => [`OrderService.Method${i}`, 1_500]),
    );
    assert.throws(
      () => synthMonitorStack({ alertRules: JSON.stringify({ p95Latency: { methodLimitsMs } }) }),
      (error: unknown) => {
        assert.ok(error instanceof LambdaEnvironmentTooLargeError, String(error));
        assert.match(
          error.message,
          /GrpcMonitorTest\/Alert: its environment variables take about [\d,]+ bytes/,
        );
        assert.match(error.message, /over Lambda's limit of 4,096 bytes/);
        assert.match(error.message, new RegExp(`Largest: ${ENV.alertRules} [\\d,]+ bytes`));
        assert.match(error.message, /methodLimitsMs/);
        return true;
      },
    );
  });
});
