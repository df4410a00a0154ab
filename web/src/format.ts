/**
 * The dashboard's pure formatting rules: badges, durations, sizes, counts, times.
 *
 * These functions run in the browser: web/src/page.ts inlines each one with `toString()`. So
 * each must be SELF-CONTAINED: it may use only its parameters, its own locals and JS built-ins,
 * never another function or constant of this module (a minifier or `tsx` would rename or drop
 * the reference). test/web/format.test.ts checks this by evaluating every source in isolation.
 */

/** The colour families of the seed's legend; CSS classes are `tone-<name>`. */
export type Tone = 'green' | 'red' | 'grey' | 'orange' | 'yellow';

export interface Badge {
  /** Visible text: the badge never relies on colour alone. */
  readonly label: string;
  readonly tone: Tone;
  /** A small glyph before the text, hidden from screen readers. */
  readonly symbol: string;
}

/** The seed's status legend: success green, error red, pending grey, cancelled orange, timeout yellow. */
export function statusBadge(status: string): Badge {
  switch (status) {
    case 'success':
      return { label: 'Success', tone: 'green', symbol: '✓' };
    case 'error':
      return { label: 'Error', tone: 'red', symbol: '✕' };
    case 'pending':
      return { label: 'Pending', tone: 'grey', symbol: '…' };
    case 'cancelled':
      return { label: 'Cancelled', tone: 'orange', symbol: '⊘' };
    case 'timeout':
      return { label: 'Timeout', tone: 'yellow', symbol: '◷' };
    default:
      return { label: String(status || 'unknown'), tone: 'grey', symbol: '?' };
  }
}

/** The seed's duration legend: green < 100 ms (fast), yellow 100–1000 ms, red > 1000 ms (slow). */
export function durationBadge(ms: number | null | undefined): Badge {
  if (ms === null || ms === undefined || !Number.isFinite(ms))
    return { label: '—', tone: 'grey', symbol: '' };
  const label =
    ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toLocaleString('en-US', { maximumFractionDigits: 2 })} ms`;
  if (ms < 100) return { label, tone: 'green', symbol: '' };
  if (ms <= 1000) return { label, tone: 'yellow', symbol: '' };
  return { label, tone: 'red', symbol: '' };
}

/** Milliseconds as the API reports them (`125.3 ms`), seconds from 10 s up; `—` when absent. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms.toLocaleString('en-US', { maximumFractionDigits: 2 })} ms`;
}

/** Bytes in B, KB or MB (1 KB = 1024 B), as the seed's size badges. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A count with thousands separators (`1,543`). */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** A percentage as the API rounds it (`96.5 %`). */
export function formatPercent(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return `${p.toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;
}

/** Requests per second as the API reports them (`0.125 /s`). */
export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  return `${perSecond.toLocaleString('en-US', { maximumFractionDigits: 3 })} /s`;
}

/** An ISO timestamp as `2025-11-01 14:30:00` in UTC (the page says UTC once). */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** `/health/`'s status as a badge: healthy green, degraded yellow, anything else red. */
export function healthBadge(status: string | null | undefined): Badge {
  if (status === 'healthy') return { label: 'Healthy', tone: 'green', symbol: '●' };
  if (status === 'degraded') return { label: 'Degraded', tone: 'yellow', symbol: '▲' };
  return {
    label: status ? status.charAt(0).toUpperCase() + status.slice(1) : 'Unknown',
    tone: 'red',
    symbol: '■',
  };
}

/** What the page receives: every formatter above, by name. */
/**
 * The notice shown when log sampling is on (`sampling 5 %`): counts stay exact, the request list
 * holds the calls that were logged. Empty when every call is logged or the API does not say.
 */
export function samplingNotice(
  sampling: { enabled?: boolean; success_rate?: number } | null | undefined,
): string {
  if (!sampling || !sampling.enabled || typeof sampling.success_rate !== 'number') return '';
  const percent = Math.round(sampling.success_rate * 1000) / 10;
  return `sampling ${percent.toLocaleString('en-US', { maximumFractionDigits: 1 })} % of successes: counts are exact, the list shows the logged calls`;
}

export const FORMATTERS = {
  samplingNotice,
  statusBadge,
  durationBadge,
  formatDuration,
  formatBytes,
  formatCount,
  formatPercent,
  formatRate,
  formatTimestamp,
  healthBadge,
} as const;
export type Formatters = typeof FORMATTERS;
