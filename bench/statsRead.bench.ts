/**
 * "Overview of the last 24 h" after 1,000 and after 1,000,000 aggregated requests, in the same
 * run against the same DynamoDB Local: the read cost must not grow with traffic (goal: ratio
 * ≤ 1.5). Both tables hold the same 5 services × 4 methods, so what differs is only how much
 * traffic the counters and histograms summarize. Two reads, each timed the same way on both
 * tables:
 * - the overview's read: every scope's counters plus the ALL histogram
 *   (readWindow with `histogramsOf: [ALL]`, what GET /overview/ uses) — the goal applies here;
 * - the full read: every scope with its histogram (readWindow; services/methods pages, alerts),
 *   whose cost grows with the histograms until they saturate, reported for comparison.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../local/dynamoDbLocal';
import { ensureTables } from '../local/tables';
import { DEFAULTS, type MonitorConfig } from '../core/config';
import { documentClient } from '../core/deps';
import { ALL_SCOPE, quantile, readWindow } from '../core/stats';
import { seedStats } from './seedStats';

const ROUNDS = Number(process.env.STATS_READ_ROUNDS ?? 15);
const WARMUP = 3;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export default async function statsReadBench(): Promise<string> {
  const dynamo = await startDynamoDbLocal();
  try {
    const client = new DynamoDBClient(dynamo.clientConfig);
    const ddb = documentClient(client);
    // Mid-hour, so the window has 30 + 31 minute buckets at its ends and 23 hour buckets between.
    const now = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 30 * 60_000);
    const configFor = (name: string): MonitorConfig => ({
      ...DEFAULTS,
      requestLogTable: `bench-requests-${name}`,
      statsTable: `bench-stats-${name}`,
    });
    const small = configFor('1k');
    const large = configFor('1m');
    const seeded: string[] = [];
    for (const [config, requests] of [
      [small, 1_000],
      [large, 1_000_000],
    ] as const) {
      await ensureTables(client, config);
      const t = performance.now();
      const result = await seedStats(ddb, config, { requests, hours: 24, now });
      seeded.push(
        `${requests.toLocaleString('en')} requests → ${result.items.toLocaleString('en')} Stats items in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    }
    const range = { from: new Date(now.getTime() - 24 * 3_600_000), to: now };
    const read = async (config: MonitorConfig, histogramsOf?: string[]) => {
      const t = performance.now();
      const scopes = await readWindow(ddb, config.statsTable, range, { now, histogramsOf });
      return { ms: performance.now() - t, scopes };
    };
    const kinds = {
      overview: { small: [] as number[], large: [] as number[], only: [ALL_SCOPE] },
      full: { small: [] as number[], large: [] as number[], only: undefined },
    };
    let check = '';
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      for (const kind of Object.values(kinds)) {
        // Interleaved, so drift in the machine's load hits both alike.
        const a = await read(small, kind.only);
        const b = await read(large, kind.only);
        if (round >= WARMUP) {
          kind.small.push(a.ms);
          kind.large.push(b.ms);
        }
        const all = b.scopes.get(ALL_SCOPE);
        check = `1M table, ALL scope: total ${all?.total}, p95 ${quantile(all!.histogram, 0.95)?.toFixed(2)} ms, ${b.scopes.size} scopes; 1k table: total ${a.scopes.get(ALL_SCOPE)?.total}`;
      }
    }
    const row = (name: string, k: { small: number[]; large: number[] }) =>
      `| ${name} | ${median(k.small).toFixed(1)} | ${median(k.large).toFixed(1)} | ${(median(k.large) / median(k.small)).toFixed(2)} |`;
    const ratio = median(kinds.overview.large) / median(kinds.overview.small);
    return [
      `readWindow over the last 24 h (23 hour + 61 minute buckets), median of ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds.`,
      '',
      '| read | 1,000 requests (ms) | 1,000,000 requests (ms) | ratio |',
      '|---|---|---|---|',
      row(
        'overview: every scope\'s counters (84 Queries, `sk < "~"`) + ALL histograms (1 BatchGetItem)',
        kinds.overview,
      ),
      row('full: every scope with its histogram (84 Queries)', kinds.full),
      '',
      `**Ratio 1M / 1k of the overview read: ${ratio.toFixed(2)}** (goal ≤ 1.5). The full read grows with the histograms (bounded once they saturate).`,
      '',
      `Seeding: ${seeded.join('; ')}. Sanity: ${check}.`,
    ].join('\n');
  } finally {
    await dynamo.stop();
  }
}
