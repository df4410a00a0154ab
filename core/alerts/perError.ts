import type { RequestLogRecord } from '../record';
import type { PerErrorRule, Severity } from './config';

/** Whether this final call gets its own alert under the per-error rule (statuses, codes, services). */
export function wantsErrorAlert(record: RequestLogRecord, rule: PerErrorRule): boolean {
  if (!rule.enabled) return false;
  if (!(rule.statuses as readonly string[]).includes(record.status)) return false;
  if (rule.codes.length > 0 && !rule.codes.includes(record.grpc_status_code ?? 'UNKNOWN')) return false;
  if (rule.services.length > 0 && !rule.services.includes(record.service_name)) return false;
  return true;
}

/** A timeout is worth knowing but less alarming than a failure. */
export function errorSeverity(record: RequestLogRecord, rule: PerErrorRule): Severity {
  return record.status === 'timeout' ? 'warning' : rule.severity;
}

/** Cooldown key of a per-error alert: one per (rule, service, method). */
export const errorCooldownKey = (record: Pick<RequestLogRecord, 'service_name' | 'method_name'>): string =>
  `error#${record.service_name}#${record.method_name}`;

/** Records grouped by cooldown key, in first-seen order (the first of each group may alert; the rest are counted). */
export function groupByCooldownKey<T extends { record: RequestLogRecord }>(items: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = errorCooldownKey(item.record);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}
