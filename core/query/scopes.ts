import {
  ALL_SCOPE,
  emptyScopeStats,
  mergeScopeStats,
  methodScope,
  serviceScope,
  type ScopeStats,
} from '../stats';

/** A window's scopes as readWindow returns them: scope key → counters. */
export type WindowStats = ReadonlyMap<string, ScopeStats>;

export interface ServiceStats {
  service: string;
  stats: ScopeStats;
}

export interface MethodStats {
  service: string;
  method: string;
  stats: ScopeStats;
}

const SERVICE_PREFIX = serviceScope('');
const METHOD_PREFIX = methodScope('', '').slice(0, -1);

export const allScope = (window: WindowStats): ScopeStats => window.get(ALL_SCOPE) ?? emptyScopeStats();

export function servicesOf(window: WindowStats): ServiceStats[] {
  const services: ServiceStats[] = [];
  for (const [scope, stats] of window) {
    if (scope.startsWith(SERVICE_PREFIX))
      services.push({ service: scope.slice(SERVICE_PREFIX.length), stats });
  }
  return services;
}

/** `M#UserService#GetUser` → UserService / GetUser (a service name never holds `#`). */
export function methodsOf(window: WindowStats): MethodStats[] {
  const methods: MethodStats[] = [];
  for (const [scope, stats] of window) {
    if (!scope.startsWith(METHOD_PREFIX)) continue;
    const rest = scope.slice(METHOD_PREFIX.length);
    const cut = rest.indexOf('#');
    if (cut < 0) continue;
    methods.push({ service: rest.slice(0, cut), method: rest.slice(cut + 1), stats });
  }
  return methods;
}

/** The counters that answer a service/method filter: one scope, or a method summed over services. */
export function scopeFor(window: WindowStats, service?: string, method?: string): ScopeStats {
  if (service !== undefined && method !== undefined) {
    return window.get(methodScope(service, method)) ?? emptyScopeStats();
  }
  if (service !== undefined) return window.get(serviceScope(service)) ?? emptyScopeStats();
  if (method !== undefined) {
    return methodsOf(window)
      .filter((m) => m.method === method)
      .reduce((sum, m) => mergeScopeStats(sum, m.stats), emptyScopeStats());
  }
  return allScope(window);
}

/** Largest first; ties by name so the order is stable. */
export function byTotalDesc<T extends { stats: ScopeStats }>(name: (t: T) => string) {
  return (a: T, b: T): number => b.stats.total - a.stats.total || name(a).localeCompare(name(b));
}
