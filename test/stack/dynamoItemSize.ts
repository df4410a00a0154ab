/**
 * DynamoDB's documented item size rules (what write request units are billed on): attribute
 * names and strings in UTF-8 bytes; numbers about 1 byte per two significant digits plus 1;
 * booleans and nulls 1 byte; maps and lists 3 bytes plus 1 byte per element plus their contents.
 */
export function attributeValueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') {
    const digits = String(Math.abs(value)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
  }
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + attributeValueSize(v), 0);
  if (typeof value === 'object') {
    return (
      3 + Object.entries(value).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + attributeValueSize(v), 0)
    );
  }
  throw new TypeError(`no DynamoDB size for ${typeof value}`);
}

export function itemSize(item: Record<string, unknown>): number {
  return Object.entries(item)
    .filter(([, v]) => v !== undefined)
    .reduce((n, [name, v]) => n + Buffer.byteLength(name) + attributeValueSize(v), 0);
}

/** A GSI entry: the index keys, the table key and the projected attributes, plus 100 bytes. */
export function indexEntrySize(item: Record<string, unknown>, attributes: readonly string[]): number {
  return itemSize(Object.fromEntries(attributes.filter((a) => a in item).map((a) => [a, item[a]]))) + 100;
}

export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
