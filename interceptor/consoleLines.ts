import type { RequestLogRecord } from '../core/record';

/**
 * The seed's console lines:
 * `[gRPC] ➡️  UserService.GetUser | peer=ipv4:127.0.0.1:54321`
 * `[gRPC] ❌ ProductService.GetProduct | status=NOT_FOUND | time=50.00ms | error=Product not found | peer=…`
 */
export function startLine(record: Pick<RequestLogRecord, 'service_name' | 'method_name' | 'peer'>): string {
  return `[gRPC] ➡️  ${record.service_name}.${record.method_name} | peer=${record.peer ?? 'unknown'}`;
}

const ICONS: Record<RequestLogRecord['status'], string> = {
  pending: '➡️ ',
  success: '✅',
  error: '❌',
  cancelled: '🚫',
  timeout: '⏱️',
};

/** Error text on one short line: a console is for people, the record keeps the full message. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

export function endLine(record: RequestLogRecord): string {
  const parts = [
    `[gRPC] ${ICONS[record.status]} ${record.service_name}.${record.method_name}`,
    `status=${record.grpc_status_code ?? 'UNKNOWN'}`,
    `time=${(record.duration_ms ?? 0).toFixed(2)}ms`,
  ];
  if (record.status !== 'success' && record.error_message)
    parts.push(`error=${oneLine(record.error_message)}`);
  parts.push(`peer=${record.peer ?? 'unknown'}`);
  return parts.join(' | ');
}
