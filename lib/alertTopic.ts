import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertTopicProps {
  /** Subscribe this address (AWS emails a confirmation link first). @default - no subscription */
  readonly email?: string;
  /**
   * Encrypt messages at rest with a customer-managed KMS key (about $1 a month). The AWS-managed
   * `alias/aws/sns` key is not offered: CloudWatch alarms cannot publish to topics using it.
   * @default false
   */
  readonly kms?: boolean;
}

/**
 * The SNS topic that alerts (from the alert Lambda) and the monitor's own alarms go to.
 * Publishing requires TLS; CloudWatch may publish alarms from this account only.
 */
export class AlertTopic extends Construct {
  readonly topic: Topic;
  /** The topic's key, when `kms` is on. */
  readonly key?: Key;

  constructor(scope: Construct, id: string, props: AlertTopicProps = {}) {
    super(scope, id);
    const account = Stack.of(this).account;
    if (props.kms) {
      this.key = new Key(this, 'Key', {
        enableKeyRotation: true,
        description: 'Encrypts gRPC Monitor alerts at rest',
      });
      // CloudWatch alarm actions encrypt the message they publish with the topic's key.
      this.key.addToResourcePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
    }
    this.topic = new Topic(this, 'Topic', {
      displayName: 'gRPC Monitor alerts',
      enforceSSL: true,
      ...(this.key && { masterKey: this.key }),
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
    );
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }

  /**
   * Publish rights, spelled out instead of Topic.grantPublish, whose key grant carries the
   * wildcard action `kms:GenerateDataKey*`: SNS needs exactly GenerateDataKey and Decrypt.
   */
  grantPublish(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    if (this.key) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [this.key.keyArn],
        }),
      );
    }
  }
}
