import { status as GrpcStatus } from '@grpc/grpc-js';
import type { FinalStatus } from './record';

/** gRPC status code number → its NAME (`5` → `NOT_FOUND`). Unknown numbers map to `UNKNOWN`. */
export function codeName(code: number): string {
  return GrpcStatus[code] ?? 'UNKNOWN';
}

/**
 * The seed's status for a finished call: OK→success, CANCELLED→cancelled,
 * DEADLINE_EXCEEDED→timeout, any other code→error.
 * `successCodes` lets a team count codes such as NOT_FOUND as success (they are then not errors).
 */
export function statusFromCode(
  code: number,
  successCodes: ReadonlySet<number> = DEFAULT_SUCCESS_CODES,
): FinalStatus {
  if (code === GrpcStatus.CANCELLED) return 'cancelled';
  if (code === GrpcStatus.DEADLINE_EXCEEDED) return 'timeout';
  if (code === GrpcStatus.OK || successCodes.has(code)) return 'success';
  return 'error';
}

export const DEFAULT_SUCCESS_CODES: ReadonlySet<number> = new Set([GrpcStatus.OK]);
