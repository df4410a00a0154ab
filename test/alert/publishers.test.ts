import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { MemoryPublisher } from '../../core/alerts/memoryPublisher';
import { errorAlertMessage } from '../../core/alerts/text';
import * as alertModule from '../../lambdas/alert';
import { SnsPublisher } from '../../lambdas/alert/snsPublisher';
import { failedCall } from './factories';

const message = errorAlertMessage(failedCall(), 'error', { count: 0, since: null }, 300);

describe('publishers', () => {
  const sns = mockClient(SNSClient);
  after(() => sns.restore());

  it('SnsPublisher.fromEnv publishes to the topic in GRPC_MONITOR_TOPIC_ARN', async () => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'x' });
    const topic = 'arn:aws:sns:eu-west-1:123456789012:alerts';
    await SnsPublisher.fromEnv({ GRPC_MONITOR_TOPIC_ARN: topic }, new SNSClient({})).publish(message);
    const [call] = sns.commandCalls(PublishCommand);
    assert.equal(call!.args[0].input.TopicArn, topic);
    assert.equal(call!.args[0].input.Subject, message.subject);
  });

  it('SnsPublisher.fromEnv says what is missing', () => {
    assert.throws(() => SnsPublisher.fromEnv({}), /GRPC_MONITOR_TOPIC_ARN is not set/);
  });

  it('MemoryPublisher keeps every message and prints the subject and the indented body', async () => {
    const lines: string[] = [];
    const publisher = new MemoryPublisher({ log: (line) => lines.push(line) });
    await publisher.publish(message);
    assert.deepEqual(publisher.messages, [message]);
    assert.equal(lines.length, 1);
    assert.ok(
      lines[0]!.startsWith(
        '🔔 ALERT [error] gRPC Error: UserService.GetUser (NOT_FOUND)\n    gRPC Error: UserService.GetUser\n',
      ),
    );
  });

  it('the Lambda module exports the stream and schedule entries without reading env at import', () => {
    assert.equal(typeof alertModule.handler, 'function');
    assert.equal(typeof alertModule.evaluationHandler, 'function');
    assert.equal(typeof alertModule.createAlertHandler, 'function');
    assert.equal(typeof alertModule.createRuleEvaluationHandler, 'function');
  });
});
