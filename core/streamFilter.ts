import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord } from 'aws-lambda';

/**
 * Stream event filters, defined once as data: the stack deploys them as Lambda FilterCriteria
 * (`toFilterPatterns`) and the local pollers apply the same ones (`matchesFilter`), so AWS and
 * the laptop deliver the same records. The subset is deliberately small: exact strings,
 * booleans, and exists.
 */
export type AttributeMatcher =
  { readonly S: readonly string[] } | { readonly BOOL: readonly boolean[] } | { readonly exists: boolean };

/** All conditions of a pattern must hold. */
export interface StreamRecordPattern {
  readonly eventName?: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[];
  readonly newImage?: Readonly<Record<string, AttributeMatcher>>;
}

/** A record passes when any pattern matches (Lambda ORs its filters; at most 5). */
export interface StreamFilter {
  readonly patterns: readonly StreamRecordPattern[];
}

function matcherPattern(matcher: AttributeMatcher): unknown {
  if ('exists' in matcher) return [{ exists: matcher.exists }];
  if ('S' in matcher) return { S: [...matcher.S] };
  return { BOOL: [...matcher.BOOL] };
}

/** The filter as Lambda event-filter pattern objects (wrap each in `FilterCriteria.filter`). */
export function toFilterPatterns(filter: StreamFilter): Record<string, unknown>[] {
  return filter.patterns.map((pattern) => {
    const out: Record<string, unknown> = {};
    if (pattern.eventName) out.eventName = [...pattern.eventName];
    if (pattern.newImage) {
      out.dynamodb = {
        NewImage: Object.fromEntries(
          Object.entries(pattern.newImage).map(([k, m]) => [k, matcherPattern(m)]),
        ),
      };
    }
    return out;
  });
}

function attributeMatches(value: LambdaAttributeValue | undefined, matcher: AttributeMatcher): boolean {
  if ('exists' in matcher) return (value !== undefined) === matcher.exists;
  if (value === undefined) return false;
  if ('S' in matcher) return value.S !== undefined && matcher.S.includes(value.S);
  return value.BOOL !== undefined && matcher.BOOL.includes(value.BOOL);
}

function patternMatches(record: DynamoDBRecord, pattern: StreamRecordPattern): boolean {
  if (pattern.eventName && !pattern.eventName.includes(record.eventName as 'INSERT')) return false;
  if (pattern.newImage) {
    const image = record.dynamodb?.NewImage;
    for (const [name, matcher] of Object.entries(pattern.newImage)) {
      if (!attributeMatches(image?.[name], matcher)) return false;
    }
  }
  return true;
}

/** Whether Lambda would deliver this record through the filter. */
export function matchesFilter(filter: StreamFilter, record: DynamoDBRecord): boolean {
  return filter.patterns.some((pattern) => patternMatches(record, pattern));
}
