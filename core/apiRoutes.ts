/**
 * The monitor API's routes, in one place: the stack makes one HTTP API route and Lambda per
 * entry (handler file `lambdas/api/<name>.ts`), and the local HTTP server dispatches by the
 * same table. `public` routes skip the bearer-token authorizer.
 */
export const API_BASE_PATH = '/cfg/grpc/monitor';

export interface ApiRoute {
  /** Handler module `lambdas/api/<name>.ts`, exporting `handler`. */
  readonly name: string;
  /** HTTP API route path (API Gateway syntax: `{request_id}` is a path parameter). */
  readonly path: string;
  readonly public: boolean;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { name: 'overview', path: `${API_BASE_PATH}/overview/`, public: false },
  { name: 'requests', path: `${API_BASE_PATH}/requests/`, public: false },
  { name: 'requestDetail', path: `${API_BASE_PATH}/requests/{request_id}/`, public: false },
  { name: 'services', path: `${API_BASE_PATH}/services/`, public: false },
  { name: 'methods', path: `${API_BASE_PATH}/methods/`, public: false },
  { name: 'timeline', path: `${API_BASE_PATH}/timeline/`, public: false },
  { name: 'health', path: `${API_BASE_PATH}/health/`, public: true },
  // The dashboard page itself is public: it asks for the token and sends it on API calls.
  { name: 'ui', path: `${API_BASE_PATH}/ui/`, public: true },
];
