import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one definition of each table: the CDK construct (lib/) and the local runtime (local/)
 * both build their tables from these objects, so the two can never drift.
 */
export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** Attributes projected besides the keys (INCLUDE): what list views show. */
  readonly nonKeyAttributes: readonly string[];
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalIndexes: readonly IndexDefinition[];
  readonly timeToLiveAttribute: string;
  /** Stream view type, when the table has a stream. */
  readonly stream?: 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
}

/** GSI names of RequestLog. */
export const REQUEST_LOG_INDEX = {
  byTime: 'by_time',
  byService: 'by_service',
  byStatus: 'by_status',
} as const;

/** Attribute names of RequestLog's index keys (see requestLogItem.ts for their values). */
export const REQUEST_LOG_KEYS = {
  requestId: 'request_id',
  timePk: 'gsi_time_pk',
  servicePk: 'gsi_service_pk',
  statusPk: 'gsi_status_pk',
  sortKey: 'gsi_sk',
} as const;

/** What list views need (the seed's /requests/ fields plus what search and recent_errors read). */
const LIST_VIEW_ATTRIBUTES = [
  'item_type',
  'client_request_id',
  'service_name',
  'method_name',
  'full_method',
  'status',
  'grpc_status_code',
  'duration_ms',
  'request_size',
  'response_size',
  'user',
  'user_id',
  'client_ip',
  'error_message',
  'created_at',
  'heartbeat',
] as const;

const sk: KeyAttribute = { name: REQUEST_LOG_KEYS.sortKey, type: 'S' };

/**
 * RequestLog: one item per call, key `request_id`. Every list is a Query on a GSI over a
 * time range (SK `created_at#request_id`), PKs spread over `shards`:
 * - by_time:    `2025-11-01T14#<shard>` (hour bucket of created_at); heartbeats use `HEARTBEAT`
 * - by_service: `UserService#<shard>`
 * - by_status:  `error#<shard>`
 */
export const requestLogTable: TableDefinition = {
  partitionKey: { name: REQUEST_LOG_KEYS.requestId, type: 'S' },
  globalIndexes: [
    {
      indexName: REQUEST_LOG_INDEX.byTime,
      partitionKey: { name: REQUEST_LOG_KEYS.timePk, type: 'S' },
      sortKey: sk,
      nonKeyAttributes: LIST_VIEW_ATTRIBUTES,
    },
    {
      indexName: REQUEST_LOG_INDEX.byService,
      partitionKey: { name: REQUEST_LOG_KEYS.servicePk, type: 'S' },
      sortKey: sk,
      nonKeyAttributes: LIST_VIEW_ATTRIBUTES,
    },
    {
      indexName: REQUEST_LOG_INDEX.byStatus,
      partitionKey: { name: REQUEST_LOG_KEYS.statusPk, type: 'S' },
      sortKey: sk,
      nonKeyAttributes: LIST_VIEW_ATTRIBUTES,
    },
  ],
  timeToLiveAttribute: 'expires_at',
  stream: 'NEW_AND_OLD_IMAGES',
};

/**
 * Stats: the counters the aggregator recomputes from the deltas when a bucket closes, plus small
 * bookkeeping items. PK `pk`, SK `sk`:
 * - a time bucket at one of five levels (`M#2025-11-01T14:05` minute, `M5#…` five minutes,
 *   `M15#…` quarter hour, `H#2025-11-01T14` hour, `H6#2025-11-01T12` six hours; see
 *   core/stats/keys.ts) × `ALL` | `S#UserService` | `M#UserService#GetUser` (counters), and
 *   × `~H#<scope>` (that scope's latency histogram, packed)
 * - `AGG#DIRTY` × a bucket key: buckets the aggregator must recompute
 * - `AGG` × `WATERMARK`: every bucket ending at or before its `through` is final
 * - `CATALOG` × `S#…` / `M#…#…`: known services and methods
 * - `ALERT#…`: alert rule state and cooldowns
 */
export const statsTable: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [],
  timeToLiveAttribute: 'expires_at',
};

/**
 * Deltas: what monitors ship every `statsFlushMs` (core/deltas/deltaItem.ts). PK `pk` the
 * minute bucket (`M#2025-11-01T14:05`), SK `sk` = `<instance>#<seq>`. Its stream (keys only:
 * the minute is all the aggregator needs from a record) is read by one consumer, the aggregate
 * Lambda, which recomputes the Stats items of the minutes it names.
 */
export const deltaTable: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [],
  timeToLiveAttribute: 'expires_at',
  stream: 'KEYS_ONLY',
};

/** CreateTable input for DynamoDB Local (on-demand, as the stack deploys). */
export function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const keys = [
    definition.partitionKey,
    definition.sortKey,
    ...definition.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  const attributes = new Map<string, AttributeType>();
  for (const key of keys) if (key) attributes.set(key.name, key.type);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
      ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    ...(definition.globalIndexes.length > 0 && {
      GlobalSecondaryIndexes: definition.globalIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.nonKeyAttributes] },
      })),
    }),
    ...(definition.stream && {
      StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream },
    }),
  };
}
