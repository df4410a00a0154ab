import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { MonitorConfig } from '../../core/config';
import { cellsOfItem, mergeCell, emptyCell, type DeltaCell } from '../../core/deltas';
import { fromRequestLogItem } from '../../core/requestLogItem';
import { successSampler } from '../../core/sampling';
import { createGrpcMonitor, type GrpcMonitor } from 'grpc-monitor-interceptor';
import { expand, unary, type CallControl, type CallOutcome } from '../fixtures/echoCalls';
import { startEchoServer, type EchoRequest, type EchoServer } from '../fixtures/echoServer';
import { seededRandom } from '../fixtures/random';
import { startTestDynamo, type TestDynamo } from '../harness/dynamo';

/**
 * Real grpc-js server and client, real DynamoDB Local: what the log keeps (sampling, keys,
 * the sparse status index) and that the counts (delta items) hold every call whatever is logged.
 */

const RATE = 0.1;
const SLOW_MS = 150;

/** Runs `tasks` with at most `width` at once. */
async function pool<T>(width: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

const echoedId = (outcome: CallOutcome): string =>
  String(outcome.headers?.get('x-request-id')[0] ?? outcome.trailers?.get('x-request-id')[0]);

function traceparentOf(random: () => number): { traceId: string; header: string } {
  let traceId = '';
  for (let i = 0; i < 32; i++) traceId += Math.floor(random() * 16).toString(16);
  return { traceId, header: `00-${traceId}-00f067aa0ba902b7-01` };
}

/** Every cell of a Deltas table merged into one (all services and methods). */
async function allCounts(db: TestDynamo, table: string): Promise<DeltaCell> {
  const cells = (await db.scanAll(table)).flatMap(cellsOfItem);
  return cells.reduce((into, cell) => mergeCell(into, cell), emptyCell('*', '*'));
}

interface Monitored {
  config: MonitorConfig;
  monitor: GrpcMonitor;
  echo: EchoServer;
  client: ReturnType<EchoServer['client']>;
}

describe('sampled log, exact counts', () => {
  let db: TestDynamo;
  const started: Monitored[] = [];

  async function monitored(rate: number): Promise<Monitored> {
    const config = await db.createTables();
    const monitor = createGrpcMonitor({
      tableName: config.requestLogTable,
      deltaTableName: config.deltaTable,
      dynamoDb: db.clientConfig,
      console: false,
      slowThresholdMs: SLOW_MS,
      sampling: { success: rate },
    });
    const echo = await startEchoServer([monitor.interceptor]);
    const entry = { config, monitor, echo, client: echo.client() };
    started.push(entry);
    return entry;
  }

  /** Waits (bounded) until the monitor saw `calls` calls end, then flushes. */
  async function settled(m: Monitored, calls: number): Promise<void> {
    for (let i = 0; i < 400 && m.monitor.stats().calls < calls; i++)
      await new Promise((r) => setTimeout(r, 25));
    await m.monitor.flush();
  }

  before(async () => {
    db = await startTestDynamo();
  });
  after(async () => {
    for (const m of started) {
      await m.monitor.close();
      await m.echo.stop();
    }
    await db?.stop();
  });

  test('two calls with one x-request-id: two records (our keys), both counted; an error stays an error', async () => {
    const m = await monitored(1);
    const metadata = () => {
      const md = new grpc.Metadata();
      md.set('x-request-id', 'shared-id-1');
      return md;
    };
    const first = await unary(m.client, { text: 'a', behavior: 'not_found' }, { metadata: metadata() });
    const second = await unary(m.client, { text: 'b' }, { metadata: metadata() });
    assert.equal(first.code, grpc.status.NOT_FOUND);
    assert.equal(second.code, grpc.status.OK);
    assert.equal(echoedId(first), 'shared-id-1', "the client's id is echoed back");
    assert.equal(echoedId(second), 'shared-id-1');
    await settled(m, 2);

    const records = (await db.scanAll(m.config.requestLogTable)).map(fromRequestLogItem);
    assert.equal(records.length, 2);
    assert.notEqual(records[0]!.request_id, records[1]!.request_id);
    assert.deepEqual(records.map((r) => [r.client_request_id, r.status]).sort(), [
      ['shared-id-1', 'error'],
      ['shared-id-1', 'success'],
    ]);
    const counts = await allCounts(db, m.config.deltaTable);
    assert.equal(counts.total, 2);
    assert.deepEqual(counts.byStatus, { success: 1, error: 1 });
    assert.equal(counts.logged, 2);
  });

  test('a success writes no by_status key; the other statuses do', async () => {
    const m = await monitored(1);
    await unary(m.client, { text: 'ok' });
    await unary(m.client, { text: 'nf', behavior: 'not_found' });
    await unary(m.client, { text: 'late', behavior: 'hang' }, { deadlineMs: 100 });
    await settled(m, 3);
    const items = await db.scanAll(m.config.requestLogTable);
    const statusKey = Object.fromEntries(items.map((item) => [String(item.status), item.gsi_status_pk]));
    assert.deepEqual(Object.keys(statusKey).sort(), ['error', 'success', 'timeout']);
    assert.equal(statusKey.success, undefined);
    assert.equal(statusKey.error, 'error#0');
    assert.equal(statusKey.timeout, 'timeout#0');
    for (const item of items)
      assert.ok(item.gsi_time_pk && item.gsi_service_pk, 'by_time and by_service stay');
  });

  test(`r = ${RATE}: every failure, timeout, cancel and slow call is logged; successes within binomial bounds; counts are all calls`, async () => {
    const m = await monitored(RATE);
    const random = seededRandom(2026);
    const sampler = successSampler(RATE);
    type Plan = {
      kind: 'ok' | 'traced' | 'not_found' | 'throw' | 'deadline' | 'cancel' | 'slow';
      id: string;
    };
    const plans: Plan[] = [];
    const add = (kind: Plan['kind'], n: number) => {
      for (let i = 0; i < n; i++) plans.push({ kind, id: `${kind}-${i}` });
    };
    add('ok', 1_500);
    add('traced', 1_500);
    add('not_found', 40);
    add('throw', 40);
    add('deadline', 20);
    add('cancel', 20);
    add('slow', 20);
    // Shuffle, so failures interleave with successes.
    for (let i = plans.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [plans[i], plans[j]] = [plans[j]!, plans[i]!];
    }
    const traceIds = new Map<string, string>();
    const outcomes = await pool(
      32,
      plans.map((plan) => async () => {
        const metadata = new grpc.Metadata();
        if (plan.kind !== 'ok') metadata.set('x-request-id', plan.id);
        if (plan.kind === 'traced') {
          const { traceId, header } = traceparentOf(random);
          traceIds.set(plan.id, traceId);
          metadata.set('traceparent', header);
        }
        const control: CallControl = { metadata };
        const request: EchoRequest = { text: plan.id };
        if (plan.kind === 'slow') {
          return expand(m.client, { text: plan.id, count: 2, delay_ms: SLOW_MS + 20 }, control);
        }
        if (plan.kind === 'not_found' || plan.kind === 'throw') request.behavior = plan.kind;
        if (plan.kind === 'deadline' || plan.kind === 'cancel') request.behavior = 'hang';
        if (plan.kind === 'deadline') control.deadlineMs = 150;
        if (plan.kind === 'cancel') control.cancelAfterMs = 60;
        return unary(m.client, request, control);
      }),
    );
    await settled(m, plans.length);

    const stats = m.monitor.stats();
    assert.equal(stats.calls, plans.length);
    assert.equal(stats.calls, stats.logged + stats.sampledOut);
    assert.equal(stats.unflushedCalls, 0);
    assert.deepEqual(stats.deltas.calls, {
      enqueued: plans.length,
      written: plans.length,
      dropped: 0,
      queued: 0,
    });
    assert.equal(stats.dropped, 0);

    const records = (await db.scanAll(m.config.requestLogTable)).map(fromRequestLogItem);
    assert.equal(records.length, stats.logged);
    assert.equal(stats.written, stats.logged);
    const byClientId = new Map(records.map((r) => [r.client_request_id, r]));
    // Always logged: every failure, timeout, cancel and slow call.
    for (const plan of plans.filter((p) => !['ok', 'traced'].includes(p.kind))) {
      assert.ok(byClientId.has(plan.id), `${plan.id} was not logged`);
    }

    // Successes: the logged ones are exactly those the rule keeps (a success that ran slow is
    // always logged), and their number is within 4.5 σ of a binomial(n, r).
    const successes = plans
      .map((plan, i) => ({ plan, outcome: outcomes[i]! }))
      .filter(({ plan }) => plan.kind === 'ok' || plan.kind === 'traced');
    const loggedIds = new Set(records.map((r) => r.request_id));
    let kept = 0;
    let fast = 0;
    for (const { plan, outcome } of successes) {
      const record = plan.kind === 'traced' ? byClientId.get(plan.id) : undefined;
      const slow = (plan.kind === 'traced' ? record : records.find((r) => r.request_id === echoedId(outcome)))
        ?.duration_ms;
      if (slow !== undefined && slow !== null && slow >= SLOW_MS) continue;
      fast++;
      const expected =
        plan.kind === 'traced'
          ? sampler.keeps(traceIds.get(plan.id)!, 'unused')
          : sampler.keeps(null, echoedId(outcome));
      const logged = plan.kind === 'traced' ? byClientId.has(plan.id) : loggedIds.has(echoedId(outcome));
      assert.equal(logged, expected, `${plan.id}: logged ${logged}, the rule says ${expected}`);
      if (logged) kept++;
    }
    const sigma = Math.sqrt(fast * RATE * (1 - RATE));
    assert.ok(Math.abs(kept - fast * RATE) <= 4.5 * sigma, `${kept} of ${fast} successes logged`);

    // The counts hold every call, whatever was logged.
    const counts = await allCounts(db, m.config.deltaTable);
    assert.equal(counts.total, plans.length);
    assert.equal(counts.logged, records.length);
    assert.equal(counts.byStatus.success, 3_000 + 20);
    assert.equal(counts.byStatus.error ?? 0, 80);
    assert.equal((counts.byStatus.timeout ?? 0) + (counts.byStatus.cancelled ?? 0), 40);
    assert.ok(counts.slow >= 20);
  });

  test('two monitors keep or drop the same trace ids alike', async () => {
    const [a, b] = [await monitored(RATE), await monitored(RATE)];
    const random = seededRandom(99);
    const traces = Array.from({ length: 400 }, () => traceparentOf(random));
    for (const m of [a, b]) {
      await pool(
        16,
        traces.map(({ header }) => () => {
          const metadata = new grpc.Metadata();
          metadata.set('traceparent', header);
          return unary(m.client, { text: 'traced' }, { metadata });
        }),
      );
      await settled(m, traces.length);
    }
    const expected = new Set(
      traces.filter(({ traceId }) => successSampler(RATE).keeps(traceId, 'x')).map((t) => t.traceId),
    );
    assert.ok(expected.size > 10 && expected.size < 80, `${expected.size} traces kept of 400`);
    for (const m of [a, b]) {
      const records = (await db.scanAll(m.config.requestLogTable)).map(fromRequestLogItem);
      const all = new Set(records.map((r) => r.trace_id));
      // A call that ran slow (a loaded machine) is logged whatever its trace id: leave those out.
      const plain = records.filter((r) => r.status === 'success' && (r.duration_ms ?? 0) < SLOW_MS);
      for (const { trace_id } of plain)
        assert.ok(expected.has(trace_id!), `${trace_id} logged, the rule drops it`);
      for (const id of expected) assert.ok(all.has(id), `${id} not logged, the rule keeps it`);
    }
  });
});
