/**
 * `grpc-monitor-interceptor/query`: the query library (core/query) for scripts and back-offices
 * that read what the monitor recorded, with what it needs to be called: the deployment's config
 * (the stack's environment, `configFromEnv`) and a DocumentClient.
 *
 * ```ts
 * const deps = { ddb: documentClient({ region }), config: configFromEnv(), now: () => new Date() };
 * await getStatistics(deps, { hours: 24 });
 * await requestLogs(deps).recent({ hours: 1 }).error().byService('UserService').list();
 * ```
 */
export * from '../core/query';
export { configFromEnv, ConfigError, DEFAULTS, ENV, type MonitorConfig } from '../core/config';
export { documentClient, type MonitorDeps } from '../core/deps';
export type { RequestLogRecord, RequestStatus, RequestUser } from '../core/record';
