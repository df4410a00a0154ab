import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
  type Attribute,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  deltaTable,
  requestLogTable,
  statsTable,
  type KeyAttribute,
  type TableDefinition,
} from '../core/tables';

export interface MonitorTablesProps {
  /**
   * Deletion protection, and RETAIN when the stack is deleted; false makes the tables
   * disposable (throwaway stacks).
   * @default true
   */
  readonly deletionProtection?: boolean;
}

function attribute(key: KeyAttribute): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/**
 * A DynamoDB table built from its `core/tables.ts` definition, the object the local runtime
 * creates its tables from: keys, INCLUDE-projected GSIs, TTL attribute and stream come from
 * there; on-demand billing, point-in-time recovery and KMS encryption are added here.
 */
export function tableFromDefinition(
  scope: Construct,
  id: string,
  definition: TableDefinition,
  deletionProtection: boolean,
): Table {
  const table = new Table(scope, id, {
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey && { sortKey: attribute(definition.sortKey) }),
    billingMode: BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: definition.timeToLiveAttribute,
    ...(definition.stream && { stream: StreamViewType[definition.stream] }),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    deletionProtection,
    removalPolicy: deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  for (const index of definition.globalIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: attribute(index.sortKey),
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...index.nonKeyAttributes],
    });
  }
  return table;
}

/**
 * The RequestLog table (its stream feeds the alert Lambda), the Stats table, and the Deltas table
 * (what the monitors ship every statsFlushMs; its keys-only stream feeds the aggregate Lambda).
 */
export class MonitorTables extends Construct {
  readonly requestLog: Table;
  readonly stats: Table;
  readonly deltas: Table;
  /** The definitions the tables were built from (the same objects `local/tables.ts` uses). */
  readonly requestLogDefinition: TableDefinition = requestLogTable;
  readonly statsDefinition: TableDefinition = statsTable;
  readonly deltaDefinition: TableDefinition = deltaTable;

  constructor(scope: Construct, id: string, props: MonitorTablesProps = {}) {
    super(scope, id);
    const deletionProtection = props.deletionProtection ?? true;
    this.requestLog = tableFromDefinition(this, 'RequestLog', this.requestLogDefinition, deletionProtection);
    this.stats = tableFromDefinition(this, 'Stats', this.statsDefinition, deletionProtection);
    this.deltas = tableFromDefinition(this, 'Deltas', this.deltaDefinition, deletionProtection);
  }
}
