import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LIMITS, REQUEST_STATUSES, type RequestStatus } from '../../../core/record';
import { WINDOW_HOURS } from '../../../core/query';
import { BadParameterError } from './errors';

/** Longest raw value looked at for any parameter (a name is ≤ 200; a cursor ≤ 1 KB). */
const MAX_RAW_LENGTH = 1024;

/**
 * Every query parameter with all its values. API Gateway v2 joins repeated parameters with
 * commas in `queryStringParameters`, so the raw query string is the source of truth.
 */
export function queryValues(event: Pick<APIGatewayProxyEventV2, 'rawQueryString' | 'queryStringParameters'>) {
  const values = new Map<string, string[]>();
  if (event.rawQueryString) {
    for (const [name, value] of new URLSearchParams(event.rawQueryString)) {
      values.set(name, [...(values.get(name) ?? []), value]);
    }
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) values.set(name, [value]);
    }
  }
  return values;
}

/** Reads and validates query parameters; every failure is a 400 naming the parameter. */
export class QueryParams {
  private readonly values: Map<string, string[]>;

  constructor(event: Pick<APIGatewayProxyEventV2, 'rawQueryString' | 'queryStringParameters'>) {
    this.values = queryValues(event);
  }

  /** The single raw value of `name`, or undefined; rejects repeats and oversized values. */
  raw(name: string, maxLength = MAX_RAW_LENGTH): string | undefined {
    const all = this.values.get(name);
    if (all === undefined) return undefined;
    if (all.length > 1)
      throw new BadParameterError(name, 'repeated_parameter', `${name} is given more than once`);
    const value = all[0]!;
    if (value.length > maxLength) {
      throw new BadParameterError(name, 'too_long', `${name} is longer than ${maxLength} characters`);
    }
    return value;
  }

  /** A whole number in [min, max]; `fallback` when absent. */
  integer(name: string, { min, max, fallback }: { min: number; max: number; fallback: number }): number {
    const raw = this.raw(name, 32);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw))
      throw new BadParameterError(name, 'invalid_type', `${name} must be a whole number`);
    const value = Number(raw);
    if (value < min || value > max) {
      throw new BadParameterError(name, 'out_of_range', `${name} must be from ${min} to ${max}`);
    }
    return value;
  }

  /** A name-like text filter (≤ `max` characters); an empty value counts as absent. */
  text(name: string, max: number = LIMITS.name): string | undefined {
    const raw = this.raw(name, max);
    if (raw === undefined || raw === '') return undefined;
    if ([...raw].some((ch) => ch.charCodeAt(0) < 0x20)) {
      throw new BadParameterError(name, 'invalid_value', `${name} holds control characters`);
    }
    return raw;
  }

  /** One of `allowed`; an empty value counts as absent. */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.raw(name, 64);
    if (raw === undefined || raw === '') return undefined;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new BadParameterError(name, 'invalid_value', `${name} must be one of ${allowed.join(', ')}`);
    }
    return raw as T;
  }

  /** `hours`: 1–720, default 24. */
  hours(): number {
    return this.integer('hours', {
      min: WINDOW_HOURS.min,
      max: WINDOW_HOURS.max,
      fallback: WINDOW_HOURS.default,
    });
  }

  status(): RequestStatus | undefined {
    return this.choice('status', REQUEST_STATUSES);
  }
}
