export { createGrpcMonitor, type GrpcMonitor } from './createGrpcMonitor';
export {
  DEFAULT_SKIP_METHODS,
  GrpcMonitorConfigError,
  type GrpcMonitorOptions,
  type MethodPattern,
  type ResolveUser,
} from './options';
export { REQUEST_ID_HEADER } from './monitorInterceptor';
export { SENSITIVE_METADATA, type KeepMetadata, type MetadataFilter } from './callContext';
export type { DeltaStats, ItemCounts, MonitorStats, WriterStats } from '../core/heartbeat';
