import { toRequestLogItem, type ItemOptions, type RequestLogItem } from '../core/requestLogItem';
import { toRecord, type CallFacts } from './callFacts';

export interface CallItemOptions extends ItemOptions {
  /** MonitorConfig.retentionDays: sets the item's TTL. */
  readonly retentionDays: number;
}

/** A recorded call's RequestLog item: what the writer queues. */
export const callItem = (call: CallFacts, options: CallItemOptions): RequestLogItem =>
  toRequestLogItem(toRecord(call, options.retentionDays), options);
