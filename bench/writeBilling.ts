/**
 * DynamoDB's write billing, applied to the requests themselves (the cost bench's meter): an
 * item written costs one write unit per started KB of its size, plus one unit per GSI entry it
 * writes, and a write inside TransactWriteItems counts double. Item size follows DynamoDB's
 * rules: attribute names' UTF-8 bytes plus each value's size (strings their UTF-8 bytes,
 * binaries their bytes, numbers about one byte per two significant digits plus one, maps and
 * lists 3 bytes plus their elements, booleans and nulls one byte).
 *
 * A DeleteItem is billed as one unit: the items this system deletes are markers far below 1 KB.
 */
type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

/** Bytes of one attribute value in DynamoDB JSON. */
export function valueSize(value: AttributeValue): number {
  if (typeof value.S === 'string') return Buffer.byteLength(value.S, 'utf8');
  if (typeof value.N === 'string') return numberSize(value.N);
  if (typeof value.B === 'string') return Buffer.from(value.B, 'base64').length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (Array.isArray(value.SS)) return (value.SS as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (Array.isArray(value.NS)) return (value.NS as string[]).reduce((n, s) => n + numberSize(s), 0);
  if (Array.isArray(value.L))
    return 3 + (value.L as AttributeValue[]).reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M && typeof value.M === 'object') return 3 + itemSize(value.M as Item, 1);
  return 0;
}

function numberSize(n: string): number {
  const digits = n
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Bytes of an item: names plus values (`perAttribute` adds map elements' overhead). */
export function itemSize(item: Item, perAttribute = 0): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name, 'utf8') + valueSize(value) + perAttribute;
  }
  return size;
}

/** Write units of one put item: started KBs, plus one per GSI whose keys it carries. */
export function putUnits(item: Item, gsiKeys: ReadonlyArray<readonly string[]>): number {
  const base = Math.max(1, Math.ceil(itemSize(item) / 1024));
  const entries = gsiKeys.filter((keys) => keys.every((k) => item[k] !== undefined)).length;
  return base + entries;
}

/** One write a request made: its table, units and kind. */
export interface BilledWrite {
  readonly table: string;
  readonly units: number;
  /** The item's partition key value (S), for splitting a table's cost by item family. */
  readonly pk: string | undefined;
  readonly kind: 'put' | 'delete' | 'update';
}

const pkOf = (key: Item | undefined, name: string): string | undefined =>
  typeof key?.[name]?.S === 'string' ? (key[name].S as string) : undefined;

/**
 * The writes of one DynamoDB JSON request (`X-Amz-Target: DynamoDB_20120810.<op>`), billed.
 * `gsiKeys(table)` gives each GSI's key attribute names, `pkName(table)` the table's key.
 * Reads return no writes. An UpdateItem is billed by its key and values (a lower bound: AWS
 * bills the larger of the item before and after); this system's Stats writes are whole PUTs.
 */
export function billRequest(
  op: string,
  body: Record<string, unknown>,
  gsiKeys: (table: string) => ReadonlyArray<readonly string[]>,
  pkName: (table: string) => string,
): BilledWrite[] {
  const put = (table: string, item: Item, factor: number): BilledWrite => ({
    table,
    units: factor * putUnits(item, gsiKeys(table)),
    pk: pkOf(item, pkName(table)),
    kind: 'put',
  });
  const del = (table: string, key: Item, factor: number): BilledWrite => ({
    table,
    units: factor,
    pk: pkOf(key, pkName(table)),
    kind: 'delete',
  });
  const update = (table: string, key: Item, values: Item | undefined, factor: number): BilledWrite => ({
    table,
    units: factor * Math.max(1, Math.ceil((itemSize(key) + itemSize(values ?? {})) / 1024)),
    pk: pkOf(key, pkName(table)),
    kind: 'update',
  });
  switch (op) {
    case 'PutItem':
      return [put(body.TableName as string, body.Item as Item, 1)];
    case 'DeleteItem':
      return [del(body.TableName as string, body.Key as Item, 1)];
    case 'UpdateItem':
      return [update(body.TableName as string, body.Key as Item, body.ExpressionAttributeValues as Item, 1)];
    case 'BatchWriteItem': {
      const writes: BilledWrite[] = [];
      const requests = body.RequestItems as Record<
        string,
        Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>
      >;
      for (const [table, list] of Object.entries(requests)) {
        for (const r of list) {
          if (r.PutRequest) writes.push(put(table, r.PutRequest.Item, 1));
          else if (r.DeleteRequest) writes.push(del(table, r.DeleteRequest.Key, 1));
        }
      }
      return writes;
    }
    case 'TransactWriteItems': {
      const writes: BilledWrite[] = [];
      for (const action of body.TransactItems as Array<Record<string, Record<string, unknown>>>) {
        if (action.Put) writes.push(put(action.Put.TableName as string, action.Put.Item as Item, 2));
        else if (action.Delete)
          writes.push(del(action.Delete.TableName as string, action.Delete.Key as Item, 2));
        else if (action.Update) {
          const u = action.Update;
          writes.push(update(u.TableName as string, u.Key as Item, u.ExpressionAttributeValues as Item, 2));
        } else if (action.ConditionCheck) {
          writes.push(del(action.ConditionCheck.TableName as string, action.ConditionCheck.Key as Item, 2));
        }
      }
      return writes;
    }
    default:
      return [];
  }
}
