/**
 * "Overview of the last 24 h" after 1,000 and after 1,000,000 aggregated requests, in the same
 * run against the same DynamoDB Local: the read cost must not grow with traffic (goal: ratio
 * ≤ 1.5). Both tables hold the same 5 services × 4 methods, so what differs is only how much
 * traffic the counters and histograms summarize. Two reads, each timed the same way on both
 * tables:
 * - the overview's read: every scope's counters plus the ALL histogram (readWindow with
 *   `histogramsOf: [ALL]`) — the goal applies here; GET /overview/ reads the same with the
 *   counters projected to what its figures need (`counters: 'figures'`), reported too;
 * - the full read: every scope with its histogram (readWindow; services/methods pages, alerts),
 *   whose cost grows with the histograms until they saturate, reported for comparison.
 * What each read returns (items, histogram bins, bytes) is counted in one extra untimed read.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MonitorConfig } from '../core/config';
import { ALL_SCOPE, BUCKET_LEVELS, planMergedWindow, quantile, readWindow } from '../core/stats';
import { median } from './measure';
import { interleavedRounds, seedPair, withDynamoDbLocal } from './seedStats';

const ROUNDS = Number(process.env.STATS_READ_ROUNDS ?? 15);
const WARMUP = 3;

type RawItem = Record<string, { N?: string; S?: string }>;

/** A client that counts the items, histogram items and bytes the reads get back. */
function counting(ddb: DynamoDBDocumentClient) {
  const seen = { requests: 0, counterItems: 0, histogramItems: 0, bins: 0, bytes: 0 };
  const tally = (items: RawItem[] | undefined) => {
    for (const item of items ?? []) {
      seen.bytes += JSON.stringify(item).length;
      if (item.sk?.S?.startsWith('~H#')) {
        seen.histogramItems += 1;
        seen.bins += item.b?.S ? item.b.S.split(',').length : 0;
      } else seen.counterItems += 1;
    }
  };
  const client = {
    send: async (command: unknown) => {
      seen.requests += 1;
      const out = (await (ddb.send as (c: unknown) => Promise<unknown>)(command)) as {
        Items?: RawItem[];
        Responses?: Record<string, RawItem[]>;
      };
      tally(out.Items);
      for (const items of Object.values(out.Responses ?? {})) tally(items);
      return out;
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, seen };
}

export default function statsReadBench(): Promise<string> {
  return withDynamoDbLocal(async (client, ddb) => {
    // Mid-hour, so the window has partial hours at both ends.
    const { small, large, now, seeded } = await seedPair(client, ddb, 'read');
    const range = { from: new Date(now.getTime() - 24 * 3_600_000), to: now };
    // The seeded watermark is 2 minutes before now: the last minutes come from Deltas.
    const plan = planMergedWindow(range, new Date(now.getTime() - 120_000), { now });
    const levels = BUCKET_LEVELS.map((l) => l.prefix)
      .map((p) => `${plan.buckets.filter((b) => b.startsWith(p)).length} ${p}`)
      .join(' + ');
    const read = (
      config: MonitorConfig,
      histogramsOf?: string[],
      via = ddb,
      counters: 'all' | 'figures' = 'all',
    ) => readWindow(via, config, range, { now, histogramsOf, counters });
    const histogramsOf = { overview: [ALL_SCOPE], figures: [ALL_SCOPE], full: undefined };
    const counters = { overview: 'all', figures: 'figures', full: 'all' } as const;
    const kinds = ['overview', 'figures', 'full'] as const;
    const timed = await interleavedRounds(ROUNDS, WARMUP, kinds, (kind, which) =>
      read(which === 'small' ? small : large, histogramsOf[kind], ddb, counters[kind]),
    );
    const countedReads = async (kind: (typeof kinds)[number]) => {
      const counted: Array<ReturnType<typeof counting>['seen']> = [];
      for (const config of [small, large]) {
        const { client: counter, seen } = counting(ddb);
        await read(config, histogramsOf[kind], counter, counters[kind]);
        counted.push(seen);
      }
      return { ...timed[kind], counted };
    };
    const overview = await countedReads('overview');
    const figures = await countedReads('figures');
    const full = await countedReads('full');
    const all = overview.last.large.get(ALL_SCOPE);
    const check = `1M table, ALL scope: total ${all?.total}, p95 ${quantile(all!.histogram, 0.95)?.toFixed(2)} ms, ${overview.last.large.size} scopes; 1k table: total ${overview.last.small.get(ALL_SCOPE)?.total}`;
    const row = (label: string, k: typeof overview) =>
      `| ${label} | ${median(k.small).toFixed(1)} | ${median(k.large).toFixed(1)} | ${(median(k.large) / median(k.small)).toFixed(2)} |`;
    const reads = (label: string, k: typeof overview) => {
      const cell = (s: (typeof k.counted)[number]) =>
        `${s.requests} requests, ${s.counterItems} counter + ${s.histogramItems} histogram items (${s.bins.toLocaleString('en')} bins), ${Math.round(s.bytes / 1024)} KB`;
      return `| ${label} | ${cell(k.counted[0]!)} | ${cell(k.counted[1]!)} |`;
    };
    const ratio = median(overview.large) / median(overview.small);
    return [
      `readWindow over the last 24 h (${plan.buckets.length} buckets: ${levels}), median of ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds.`,
      '',
      '| read | 1,000 requests (ms) | 1,000,000 requests (ms) | ratio |',
      '|---|---|---|---|',
      row(
        `overview: every scope's counters (${plan.buckets.length} Queries, \`sk < "~"\`) + ALL histograms (1 BatchGetItem of packed histogram items) + the watermark (GetItem) + the open minutes after it (a Query each on Deltas)`,
        overview,
      ),
      row(
        `overview as \`GET /overview/\` reads it: the same, counters projected to the figures (\`counters: 'figures'\`)`,
        figures,
      ),
      row(`full: every scope with its histogram (${plan.buckets.length} Queries)`, full),
      '',
      `**Ratio 1M / 1k of the overview read: ${ratio.toFixed(2)}** (goal ≤ 1.5). The full read grows with the histograms (bounded once they saturate).`,
      '',
      'What one read gets back (items as returned; bytes of their JSON):',
      '',
      '| read | 1,000 requests | 1,000,000 requests |',
      '|---|---|---|',
      reads('overview', overview),
      reads('overview, projected', figures),
      reads('full', full),
      '',
      `Seeding: ${seeded}. Sanity: ${check}.`,
    ].join('\n');
  });
}
