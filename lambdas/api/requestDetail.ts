import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { MonitorDeps } from '../../core/deps';
import { LIMITS, type RequestLogRecord } from '../../core/record';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { clientRequestId } from '../../core/query';
import { depsFromEnv, lazyHandler } from '../shared/fromEnv';
import { apiHandler } from './middleware/apiHandler';
import { BadParameterError, NotFoundError } from './middleware/errors';
import { json } from './middleware/responses';

/** The characters a stored request id can hold (core/requestId.ts keeps ids to these). */
const REQUEST_ID = /^[A-Za-z0-9._:-]+$/;

/** GET /requests/{request_id}/ — the full record of one call (the dashboard's row view). */
export function createHandler(deps: MonitorDeps) {
  return apiHandler(async (event) => {
    const requestId = event.pathParameters?.request_id ?? '';
    if (requestId.length === 0 || requestId.length > LIMITS.requestId || !REQUEST_ID.test(requestId)) {
      throw new BadParameterError('request_id', 'invalid_value', 'request_id is not a request id');
    }
    const { Item } = await deps.ddb.send(
      new GetCommand({ TableName: deps.config.requestLogTable, Key: { request_id: requestId } }),
    );
    if (!Item || Item.item_type !== 'request') throw new NotFoundError(`No request ${requestId}`);
    const record: RequestLogRecord = fromRequestLogItem(Item);
    // The client's own `x-request-id` (issue 17), null when it sent none.
    return json({ ...record, client_request_id: clientRequestId(Item) });
  });
}

export const handler = lazyHandler(() => createHandler(depsFromEnv()));
