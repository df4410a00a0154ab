import type { RuleName, Severity } from './config';

/** What kind of news a message carries. */
export type AlertKind =
  /** One failed call (the seed's per-error alert). */
  | 'error'
  /** A window rule crossed its threshold. */
  | 'firing'
  /** A window rule that fired is back under its threshold. */
  | 'resolved'
  /** A cooldown ended with alerts counted but not sent, and no new alert came to carry the count. */
  | 'suppressed';

/**
 * SNS message attributes (all `String`), for subscription filter policies such as
 * `{"severity": ["critical"]}` or `{"service": ["UserService"], "rule": ["error"]}`.
 * `service`/`method` are `*` for a rule over every call (or every method of a service);
 * `status` is the call's status for per-error alerts and `firing`/`resolved`/`suppressed` for rules.
 */
export interface AlertAttributes {
  readonly severity: Severity;
  readonly rule: RuleName;
  readonly service: string;
  readonly method: string;
  readonly status: string;
}

/** One alert, ready for any publisher: the text people read plus the fields machines match on. */
export interface AlertMessage extends AlertAttributes {
  readonly kind: AlertKind;
  /** ASCII, one line, at most SUBJECT_MAX characters (SNS email subjects). */
  readonly subject: string;
  /** The body, plain text. */
  readonly text: string;
  readonly attributes: AlertAttributes;
  /** ISO time of the event: the call's `created_at`, or the evaluation time of a rule. */
  readonly time: string;
  /** The call's request id (per-error alerts), else null. */
  readonly requestId: string | null;
  /** Alerts of the same (rule, service, method) counted but not sent during the cooldown before this one. */
  readonly suppressed: number;
  /** The observed value of a window rule (%, calls or ms), else null. */
  readonly value: number | null;
  /** The threshold it was compared with, else null. */
  readonly threshold: number | null;
}

/** Where alerts go: SNS in AWS (lambdas/alert/snsPublisher), console + memory locally. */
export interface AlertPublisher {
  publish(message: AlertMessage): Promise<void>;
}
