/**
 * "Overview of the last 24 h" (readWindow over 24 h, every scope) after 1,000 and after
 * 1,000,000 aggregated requests, in the same run against the same DynamoDB Local: the read
 * cost must not grow with traffic (goal: ratio ≤ 1.5). Both tables hold the same 5 services ×
 * 4 methods, so what differs is only how much traffic the counters and histograms summarize.
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
    const read = async (config: MonitorConfig) => {
      const t = performance.now();
      const scopes = await readWindow(ddb, config.statsTable, range, { now });
      return { ms: performance.now() - t, scopes };
    };
    const times = { small: [] as number[], large: [] as number[] };
    let check = '';
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      // Interleaved, so drift in the machine's load hits both alike.
      const a = await read(small);
      const b = await read(large);
      if (round >= WARMUP) {
        times.small.push(a.ms);
        times.large.push(b.ms);
      }
      const all = b.scopes.get(ALL_SCOPE);
      check = `1M table, ALL scope: total ${all?.total}, p95 ${quantile(all!.histogram, 0.95)?.toFixed(2)} ms, ${b.scopes.size} scopes; 1k table: total ${a.scopes.get(ALL_SCOPE)?.total}`;
    }
    const ratio = median(times.large) / median(times.small);
    return [
      `readWindow over the last 24 h, all scopes (23 hour + 61 minute bucket Queries), median of ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds.`,
      '',
      '| aggregated requests | median read (ms) |',
      '|---|---|',
      `| 1,000 | ${median(times.small).toFixed(1)} |`,
      `| 1,000,000 | ${median(times.large).toFixed(1)} |`,
      '',
      `**Ratio 1M / 1k: ${ratio.toFixed(2)}** (goal ≤ 1.5).`,
      '',
      `Seeding: ${seeded.join('; ')}. Sanity: ${check}.`,
    ].join('\n');
  } finally {
    await dynamo.stop();
  }
}
