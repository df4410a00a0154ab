import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synthMonitorStack } from './synth';

// Prepare: one synthesis of a throwaway stack with a KMS-encrypted topic and nothing optional.
const { stack, template, resources, ofType } = synthMonitorStack({
  deletionProtection: 'false',
  alertTopicKms: 'true',
});
const keyId = stack.resolve((stack.alertTopic.key!.node.defaultChild as CfnElement).logicalId);

describe('throwaway stack with an encrypted topic', () => {
  it('leaves the tables unprotected and deletes them with the stack', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    assert.equal(tables.length, 3);
    for (const [id, table] of tables) {
      assert.equal(table.Properties.DeletionProtectionEnabled, false, id);
      assert.equal(table.DeletionPolicy, 'Delete', id);
    }
  });

  it('encrypts the topic with a rotating key that CloudWatch alarms of this account may use', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  it('lets the alert Lambdas use the key for publishing, with no wildcard action', () => {
    for (const fn of [stack.alertFunction, stack.ruleEvaluationFunction]) {
      const policy = fn.role.node.findChild('DefaultPolicy').node.defaultChild as CfnElement;
      const statements = (
        resources[stack.resolve(policy.logicalId) as string]!.Properties.PolicyDocument as {
          Statement: unknown[];
        }
      ).Statement;
      assert.deepEqual(
        statements.filter((st) => JSON.stringify(st).includes('kms:')),
        [
          {
            Effect: 'Allow',
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
          },
        ],
      );
    }
  });

  it('has no email subscription and no CORS unless asked', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
  });

  it('still passes the AwsSolutions checks', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    assert.deepEqual(
      report.violations.map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
      [],
    );
  });
});
