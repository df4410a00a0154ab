import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';

/**
 * DynamoDB access by role, narrower than CDK's grantReadData/grantReadWriteData: readers get no
 * Scan (every list is a Query), no stream reads and no DescribeTable; Stats writers other than
 * the aggregator get no DeleteItem (alert state and cooldowns are only written, and expire by TTL).
 */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

export const STATS_WRITE_ACTIONS = [
  ...TABLE_READ_ACTIONS,
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  // TransactWriteItems is authorized per action inside it: ConditionCheck needs its own grant.
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * The aggregator recomputes Stats items rather than adding to them: it PUTs whole counter and
 * histogram items (BatchWriteItem for many at once) and deletes a minute's dirty marker
 * (`AGG#DIRTY`) once the minute is recomputed. It is the only role with DeleteItem on Stats.
 */
export const STATS_RECOMPUTE_ACTIONS = [
  ...STATS_WRITE_ACTIONS,
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
] as const;

/** The table's ARN, and its indexes' when `withIndexes` (Queries on a GSI name the index ARN). */
function tableResources(table: ITable, withIndexes: boolean): string[] {
  return withIndexes ? [table.tableArn, `${table.tableArn}/index/*`] : [table.tableArn];
}

export function grantTableRead(role: IRole, table: ITable, withIndexes: boolean): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...TABLE_READ_ACTIONS], resources: tableResources(table, withIndexes) }),
  );
  if (withIndexes) {
    const stack = Stack.of(table);
    const logicalId = stack.resolve((table.node.defaultChild as CfnElement).logicalId) as string;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
      reason:
        "Reads query the table's own GSIs (by time, service, status); index/* names only this table's indexes.",
    });
  }
}

export function grantStatsWrite(role: IRole, table: ITable): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...STATS_WRITE_ACTIONS], resources: tableResources(table, false) }),
  );
}

/** The aggregate Lambda on Stats: read, and recompute (see STATS_RECOMPUTE_ACTIONS). */
export function grantStatsRecompute(role: IRole, table: ITable): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...STATS_RECOMPUTE_ACTIONS], resources: tableResources(table, false) }),
  );
}
