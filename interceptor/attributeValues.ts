import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * A writer item in DynamoDB's attribute-value form. Our items hold only strings, numbers,
 * booleans, nulls, small plain objects (`user`) and, in delta items, bytes, so this does directly what the
 * DocumentClient's generic marshalling does for them, at a fraction of its cost on the writer's
 * hot path (a test holds the two equal). Undefined values are left out; a number that is not
 * finite, which DynamoDB cannot store, becomes null.
 */
export function toAttributeMap(item: Readonly<Record<string, unknown>>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const key in item) {
    const value = toAttributeValue(item[key]);
    if (value) out[key] = value;
  }
  return out;
}

/**
 * A RequestLog item already in DynamoDB's JSON (its attribute map, as `requestLogAttributeMap`
 * makes it), for the writer's direct path: encoded once as it is queued, a queued item is one
 * flat string instead of an object graph of some 30 fields, cheap for the garbage collector to
 * keep while it waits, and its request body is a concatenation.
 */
export class EncodedItem {
  constructor(readonly json: string) {}
}

/** A RequestLog item encoded for the direct path. */
export const encodeRequestLogItem = (item: Readonly<Record<string, unknown>>): EncodedItem =>
  new EncodedItem(JSON.stringify(requestLogAttributeMap(item)));

/**
 * A RequestLog item's attribute map without its null fields: a null and an absent field read
 * back alike (fromRequestLogItem), and most of a call's optional fields are null (no user, no
 * error, no deadline, no trace), so the item, the request body and the write units shrink.
 * `client_request_id` stays, null or not: null there means the client sent none, while an absent
 * one means an item older than the field.
 */
export function requestLogAttributeMap(
  item: Readonly<Record<string, unknown>>,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const key in item) {
    const field = item[key];
    if (field === null && key !== 'client_request_id') continue;
    const value = toAttributeValue(field);
    if (value) out[key] = value;
  }
  return out;
}

function toAttributeValue(value: unknown): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      return Number.isFinite(value) ? { N: String(value) } : { NULL: true };
    case 'boolean':
      return { BOOL: value };
    case 'object':
      if (value === null) return { NULL: true };
      // A delta item's deflated cells (binary; the SDK path only: see dynamoSender).
      if (value instanceof Uint8Array) return { B: value };
      if (Array.isArray(value)) {
        return { L: value.map((element) => toAttributeValue(element) ?? { NULL: true }) };
      }
      return { M: toAttributeMap(value as Record<string, unknown>) };
    default:
      return undefined;
  }
}
