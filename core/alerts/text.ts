import type { RequestLogRecord } from '../record';
import { RULE_NAMES, type Severity } from './config';
import type { AlertAttributes, AlertMessage } from './message';
import type { RuleDecision } from './rules';

/**
 * Every word an alert says, in one place (docs/alerts.md shows the same text, and
 * test/alert/text.test.ts pins it).
 */

/** SNS refuses subjects of 100 characters or more. */
export const SUBJECT_MAX = 99;
/** An error message longer than this is cut in the body (the item keeps up to 4,000). */
export const BODY_ERROR_MAX = 1_000;
/** `service`/`method` attribute value for a rule over every service or every method. */
export const ANY = '*';

/** One printable-ASCII line of at most SUBJECT_MAX characters, as SNS requires of subjects. */
export function subjectLine(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3)}...`;
}

/**
 * Control characters that could start a line of their own, or reorder what a reader sees: C0
 * (CR, LF, tab, ESC...), DEL and C1, the Unicode line and paragraph separators, and the
 * bidirectional overrides and marks. Every field a client can influence passes through it.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A value shown in an alert body, kept on its one line: control characters become visible
 * escapes (`\n`, `\r`, `\t`, `\u001b`), so a client cannot forge a `Code:` or `User:` line.
 */
export function oneLine(value: string | number): string {
  return String(value).replace(
    CONTROL,
    (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const count = (n: number): string => n.toLocaleString('en-US');
const ms = (n: number): string => `${count(Math.round(n * 100) / 100)} ms`;
const percent = (n: number): string => `${(Math.round(n * 10) / 10).toFixed(1)}%`;

function userLine(user: RequestLogRecord['user']): string {
  return user ? `${oneLine(user.username)} (id ${oneLine(user.id)})` : 'anonymous';
}

/** The first `max` characters on one line, and how many more there were. */
function cut(text: string, max: number): string {
  return text.length <= max
    ? oneLine(text)
    : `${oneLine(text.slice(0, max))}... (${count(text.length - max)} more characters)`;
}

/** `UserService.GetUser`, `UserService` or `all services`. */
export function scopeLabel(service: string, method: string): string {
  if (service === ANY) return 'all services';
  if (method === ANY) return oneLine(service);
  return `${oneLine(service)}.${oneLine(method)}`;
}

function attributes(
  severity: Severity,
  rule: AlertAttributes['rule'],
  service: string,
  method: string,
  status: string,
): AlertAttributes {
  return { severity, rule, service: service || ANY, method: method || ANY, status };
}

export interface SuppressedNote {
  /** Alerts counted and not sent during the cooldown before this one. */
  readonly count: number;
  /** When that cooldown began (ISO). */
  readonly since: string | null;
}

function suppressedLine(note: SuppressedNote, cooldownSeconds: number): string {
  const since = note.since ? ` since ${oneLine(note.since)}` : '';
  return `Suppressed: ${count(note.count)} similar alerts${since} (cooldown ${count(cooldownSeconds)} s)`;
}

/**
 * The seed's per-error alert ("gRPC Error: Service.Method / Error / User / Time"), plus the
 * code, the request id and, after a cooldown, how many alerts of the same method were held back.
 */
export function errorAlertMessage(
  record: RequestLogRecord,
  severity: Severity,
  suppressed: SuppressedNote,
  cooldownSeconds: number,
): AlertMessage {
  // Every field below came from a call, so from a client: each is kept to its own line.
  const name = `${oneLine(record.service_name)}.${oneLine(record.method_name)}`;
  const title = record.status === 'timeout' ? 'gRPC Timeout' : 'gRPC Error';
  const code = oneLine(record.grpc_status_code ?? 'UNKNOWN');
  const lines = [
    `${title}: ${name}`,
    `Error: ${cut(record.error_message ?? '(no message)', BODY_ERROR_MAX)}`,
    `Code: ${code}`,
    `User: ${userLine(record.user)}`,
    `Time: ${oneLine(record.created_at)}`,
    `Request ID: ${oneLine(record.request_id)}`,
    `Duration: ${record.duration_ms === null ? 'unknown' : ms(record.duration_ms)}`,
    `Method: ${oneLine(record.full_method)}`,
  ];
  if (suppressed.count > 0) lines.push(suppressedLine(suppressed, cooldownSeconds));
  const more = suppressed.count > 0 ? ` (+${count(suppressed.count)} suppressed)` : '';
  const attrs = attributes(
    severity,
    RULE_NAMES.perError,
    record.service_name,
    record.method_name,
    record.status,
  );
  return {
    kind: 'error',
    subject: subjectLine(`${title}: ${name} (${code})${more}`),
    text: lines.join('\n'),
    attributes: attrs,
    ...attrs,
    time: record.created_at,
    requestId: record.request_id,
    suppressed: suppressed.count,
    value: null,
    threshold: null,
  };
}

/** A cooldown that ended with alerts held back and no new alert to carry the count. */
export function suppressedSummaryMessage(
  key: { readonly service: string; readonly method: string },
  severity: Severity,
  suppressed: SuppressedNote,
  cooldownSeconds: number,
  time: string,
): AlertMessage {
  const name = scopeLabel(key.service, key.method);
  const attrs = attributes(severity, RULE_NAMES.perError, key.service, key.method, 'suppressed');
  return {
    kind: 'suppressed',
    subject: subjectLine(`gRPC Error: ${name} (${count(suppressed.count)} more errors suppressed)`),
    text: [
      `gRPC Error: ${name}`,
      `${count(suppressed.count)} more errors arrived during the cooldown and were not sent one by one.`,
      suppressedLine(suppressed, cooldownSeconds),
      `Time: ${oneLine(time)}`,
    ].join('\n'),
    attributes: attrs,
    ...attrs,
    time,
    requestId: null,
    suppressed: suppressed.count,
    value: null,
    threshold: null,
  };
}

interface RuleWords {
  readonly firingSubject: (d: RuleDecision) => string;
  /** Subject and first line of a resolved message. */
  readonly resolved: (d: RuleDecision) => string;
  readonly title: (d: RuleDecision) => string;
  readonly observed: (d: RuleDecision) => string;
  readonly threshold: (d: RuleDecision) => string;
}

const window = (d: RuleDecision): string => `in the last ${count(d.windowMinutes)} minutes`;

const WORDS: Record<RuleDecision['rule'], RuleWords> = {
  error_rate: {
    firingSubject: (d) => `gRPC error rate ${percent(d.value)} on ${scopeLabel(d.service, d.method)}`,
    resolved: (d) =>
      `gRPC error rate on ${scopeLabel(d.service, d.method)} back at or under ${percent(d.threshold)}`,
    title: (d) => `gRPC error rate over ${percent(d.threshold)} on ${scopeLabel(d.service, d.method)}`,
    observed: (d) =>
      `Error rate: ${percent(d.value)} (${count(d.failed)} of ${count(d.total)} calls failed) ${window(d)}`,
    threshold: (d) => `Threshold: over ${percent(d.threshold)} with at least ${count(d.minCalls)} calls`,
  },
  slow_calls: {
    firingSubject: (d) =>
      `Too many slow gRPC requests! (${count(d.value)} in the last ${count(d.windowMinutes)} min, ${scopeLabel(d.service, d.method)})`,
    resolved: (d) =>
      `Slow gRPC requests back at or under ${count(d.threshold)} (${scopeLabel(d.service, d.method)})`,
    title: () => `Too many slow gRPC requests!`,
    observed: (d) => `Slow calls: ${count(d.value)} at or over ${ms(d.slowThresholdMs)} ${window(d)}`,
    threshold: (d) => `Threshold: more than ${count(d.threshold)}`,
  },
  p95_latency: {
    firingSubject: (d) => `gRPC p95 latency ${ms(d.value)} on ${scopeLabel(d.service, d.method)}`,
    resolved: (d) =>
      `gRPC p95 latency on ${scopeLabel(d.service, d.method)} back at or under ${ms(d.threshold)}`,
    title: (d) => `gRPC p95 latency over ${ms(d.threshold)} on ${scopeLabel(d.service, d.method)}`,
    observed: (d) => `p95 latency: ${ms(d.value)} over ${count(d.total)} calls ${window(d)}`,
    threshold: (d) => `Threshold: over ${ms(d.threshold)} with at least ${count(d.minCalls)} calls`,
  },
};

/** `[FIRING] …` when a window rule crosses its threshold, `[RESOLVED] …` when it clears. */
export function ruleAlertMessage(decision: RuleDecision, time: string): AlertMessage {
  const words = WORDS[decision.rule];
  const firing = decision.transition === 'fire';
  const tag = firing ? '[FIRING]' : '[RESOLVED]';
  const lines = [
    `${tag} ${firing ? words.title(decision) : words.resolved(decision)}`,
    `Scope: ${scopeLabel(decision.service, decision.method)}`,
    words.observed(decision),
    words.threshold(decision),
  ];
  if (!firing && decision.firingSince) lines.push(`Firing since: ${oneLine(decision.firingSince)}`);
  lines.push(`Time: ${oneLine(time)}`);
  const severity: Severity = firing ? decision.severity : 'info';
  const attrs = attributes(
    severity,
    decision.rule,
    decision.service,
    decision.method,
    firing ? 'firing' : 'resolved',
  );
  return {
    kind: firing ? 'firing' : 'resolved',
    subject: subjectLine(`${tag} ${firing ? words.firingSubject(decision) : words.resolved(decision)}`),
    text: lines.join('\n'),
    attributes: attrs,
    ...attrs,
    time,
    requestId: null,
    suppressed: 0,
    value: decision.value,
    threshold: decision.threshold,
  };
}
