import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MonitorStack } from '../../lib/monitorStack';
import { settingsFromContext, type ContextKey } from '../../lib/monitorSettings';

/** A CloudFormation resource as it appears in the synthesized template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface Synthesized {
  readonly stack: MonitorStack;
  readonly template: Template;
  readonly resources: Record<string, CfnResource>;
  readonly outputs: Record<string, { Value: unknown }>;
  /** Resources of one type, by logical id. */
  ofType(type: string): [string, CfnResource][];
}

/**
 * Synthesizes the stack once, fast: bundling skipped (`aws:cdk:bundling-stacks: []`) and the
 * built-in CloudFormation validation off (`CDK_VALIDATION=false`), as DESIGN.md's toolchain notes say.
 */
export function synthMonitorStack(context: Partial<Record<ContextKey, unknown>> = {}): Synthesized {
  process.env.CDK_VALIDATION = 'false';
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MonitorStack(app, 'GrpcMonitorTest', {
    settings: settingsFromContext((key) => context[key]),
  });
  const template = Template.fromStack(stack);
  const json = template.toJSON() as {
    Resources: Record<string, CfnResource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  return {
    stack,
    template,
    resources: json.Resources,
    outputs: json.Outputs,
    ofType: (type) => Object.entries(json.Resources).filter(([, r]) => r.Type === type),
  };
}
