import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns';
import { ENV } from '../../core/config';
import type { AlertMessage, AlertPublisher } from '../../core/alerts/message';

/** Publishes alerts to the SNS topic; message attributes carry severity/rule/service/method/status for filter policies. */
export class SnsPublisher implements AlertPublisher {
  constructor(
    private readonly topicArn: string,
    private readonly sns: SNSClient = new SNSClient({}),
  ) {}

  /** Topic from env GRPC_MONITOR_TOPIC_ARN (the stack sets it). */
  static fromEnv(
    env: Readonly<Record<string, string | undefined>> = process.env,
    sns?: SNSClient,
  ): SnsPublisher {
    const topicArn = env[ENV.topicArn];
    if (!topicArn) throw new Error(`${ENV.topicArn} is not set: the alert Lambda needs the SNS topic ARN`);
    return new SnsPublisher(topicArn, sns);
  }

  async publish(message: AlertMessage): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: message.subject,
        Message: message.text,
        MessageAttributes: snsAttributes(message),
      }),
    );
  }
}

/** Every attribute as an SNS `String` (filter policies match exact strings). */
export function snsAttributes(message: AlertMessage): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(message.attributes).map(([name, value]) => [
      name,
      { DataType: 'String', StringValue: String(value) },
    ]),
  );
}
