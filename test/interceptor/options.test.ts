import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcMonitorConfigError, resolveOptions } from '../../interceptor/options';

/** The issue-17 options: their defaults, the environment, and what is refused. */
describe('monitor options: statsFlushMs, deltaTableName, sampling', () => {
  const base = { tableName: 't' };

  test('defaults: 10 s, the default Deltas table, every success logged', () => {
    const options = resolveOptions(base, {});
    assert.equal(options.statsFlushMs, 10_000);
    assert.equal(options.deltaTableName, 'grpc-monitor-deltas');
    assert.equal(options.sampleSuccess, 1);
  });

  test('the environment sets them; an option wins over it', () => {
    const env = {
      GRPC_MONITOR_STATS_FLUSH_MS: '1000',
      GRPC_MONITOR_DELTA_TABLE: 'my-deltas',
      GRPC_MONITOR_SAMPLE_SUCCESS: '0.05',
    };
    const fromEnv = resolveOptions(base, env);
    assert.deepEqual(
      [fromEnv.statsFlushMs, fromEnv.deltaTableName, fromEnv.sampleSuccess],
      [1000, 'my-deltas', 0.05],
    );
    const given = resolveOptions(
      { ...base, statsFlushMs: 2000, deltaTableName: 'd', sampling: { success: 0.5 } },
      env,
    );
    assert.deepEqual([given.statsFlushMs, given.deltaTableName, given.sampleSuccess], [2000, 'd', 0.5]);
  });

  test('bad values are refused with their names', () => {
    for (const statsFlushMs of [0, -1, 5, 1.5, NaN, 4_000_000])
      assert.throws(
        () => resolveOptions({ ...base, statsFlushMs }, {}),
        (e: Error) => e instanceof GrpcMonitorConfigError && /statsFlushMs/.test(e.message),
      );
    assert.throws(
      () => resolveOptions(base, { GRPC_MONITOR_STATS_FLUSH_MS: 'soon' }),
      /GRPC_MONITOR_STATS_FLUSH_MS=soon/,
    );
    for (const success of [0, -0.1, 1.01, NaN])
      assert.throws(
        () => resolveOptions({ ...base, sampling: { success } }, {}),
        (e: Error) => e instanceof GrpcMonitorConfigError && /sampling\.success/.test(e.message),
      );
    assert.throws(
      () => resolveOptions(base, { GRPC_MONITOR_SAMPLE_SUCCESS: '0' }),
      /GRPC_MONITOR_SAMPLE_SUCCESS/,
    );
  });
});
