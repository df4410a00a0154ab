import type { AlertRulesConfig } from '../../core/alerts/config';
import type { AlertPublisher } from '../../core/alerts/message';
import type { MonitorDeps } from '../../core/deps';
import type { quantile, readWindow } from '../../core/stats';

/** What the alert handlers are built from: the monitor deps plus where alerts go and the rules. */
export type AlertDeps = MonitorDeps & {
  readonly publisher: AlertPublisher;
  /** @default DEFAULT_ALERT_RULES */
  readonly rules?: AlertRulesConfig;
  /** The stats reader (core/stats `readWindow`), injectable for tests. */
  readonly readWindow?: typeof readWindow;
  /** The quantile of a Stats histogram (core/stats `quantile`), injectable for tests. */
  readonly quantile?: typeof quantile;
  /**
   * The stream handler also evaluates the window rules, at most once per this many ms per
   * container (the schedule evaluates them every minute regardless). @default 5000
   */
  readonly ruleEvaluationIntervalMs?: number;
  /** Where failures are logged. @default console.error */
  readonly logError?: (message: string, error: unknown) => void;
};
