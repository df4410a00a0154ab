import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldCalls, type CountedCall } from '../../core/stats/fold';
import { mergeHistogram } from '../../core/stats/histogram';
import {
  counterTerms,
  counterUpdate,
  histogramTerms,
  histogramUpdate,
  MAX_ADD_TERMS,
} from '../../core/stats/updates';
import {
  ACTIONS_PER_DELTA,
  callsOf,
  chunkCalls,
  MAX_TRANSACTION_ACTIONS,
  type SequencedCall,
} from '../../lambdas/aggregate/chunks';
import { callRecord, imageOf, insert, streamRecord } from '../stats/factories';

const options = { slowThresholdMs: 1000 };
const retention = { minuteRetentionHours: 48, retentionDays: 30 };

function calls(n: number, spreadMinutes: number, durationOf: (i: number) => number): SequencedCall[] {
  return Array.from({ length: n }, (_, i) => ({
    sequenceNumber: String(i + 1),
    call: {
      requestId: `r${i}`,
      service: `S${i % 4}`,
      method: `m${i % 3}`,
      status: i % 10 === 0 ? 'error' : 'success',
      code: i % 10 === 0 ? `CODE_${i % 7}` : 'OK',
      durationMs: durationOf(i),
      bytesIn: i,
      bytesOut: 2 * i,
      createdAt: new Date(
        Date.UTC(2025, 10, 1, 14) + Math.floor((i * spreadMinutes * 60_000) / n),
      ).toISOString(),
    } satisfies CountedCall,
  }));
}

describe('chunkCalls', () => {
  for (const [name, input] of [
    ['many scopes and minutes', calls(2000, 300, (i) => 1 + (i % 50))],
    [
      'one scope, wildly spread durations (histogram terms)',
      calls(2000, 1, (i) => Math.round(0.01 * 1.021 ** (i % 900) * 100) / 100),
    ],
  ] as const) {
    it(`keeps every transaction within limits and loses nothing: ${name}`, () => {
      // Act
      const chunks = chunkCalls(input, options);
      // Assess
      assert.ok(chunks.length > 1);
      const applied = chunks.flatMap((c) => c.calls);
      assert.equal(new Set(applied).size, input.length, 'every call, once');
      assert.deepEqual(new Set(applied), new Set(input));
      const position = new Map(input.map((c, i) => [c, i]));
      for (let i = 1; i < applied.length; i++) {
        const [a, b] = [applied[i - 1]!, applied[i]!];
        const key = (c: SequencedCall) => `${c.call.service}|${c.call.method}`;
        if (key(a) === key(b)) assert.ok(position.get(a)! < position.get(b)!, 'stream order within a method');
        else assert.ok(key(a) < key(b), 'method by method');
      }
      const merged = foldCalls([], options);
      for (const chunk of chunks) {
        // A marker per call, a counter update and a histogram update per delta.
        assert.equal(ACTIONS_PER_DELTA, 2);
        assert.ok(chunk.calls.length + 2 * chunk.deltas.size <= MAX_TRANSACTION_ACTIONS);
        for (const delta of chunk.deltas.values()) {
          assert.ok(counterTerms(delta).length <= MAX_ADD_TERMS);
          assert.ok(histogramTerms(delta).length <= MAX_ADD_TERMS);
          assert.doesNotThrow(() => counterUpdate('t', delta, retention));
          assert.equal(histogramUpdate('t', delta, retention)?.Key.sk, `~H#${delta.sk}`);
          const id = `${delta.pk}|${delta.sk}`;
          const into = merged.get(id);
          if (!into) merged.set(id, { ...delta, histogram: new Map(delta.histogram) });
          else {
            into.total += delta.total;
            into.durationSumCentis += delta.durationSumCentis;
            mergeHistogram(into.histogram, delta.histogram);
          }
        }
      }
      const whole = foldCalls(
        input.map((c) => c.call),
        options,
      );
      assert.equal(merged.size, whole.size);
      for (const [id, delta] of whole) {
        assert.equal(merged.get(id)!.total, delta.total, id);
        assert.equal(merged.get(id)!.durationSumCentis, delta.durationSumCentis, id);
        assert.deepEqual(merged.get(id)!.histogram, delta.histogram, id);
      }
    });
  }

  it('a batch of interleaved methods is applied method by method, in few transactions', () => {
    // 100 calls of one service, 5 methods taken in turn, in one minute: 5 levels × 7 scopes.
    const input = calls(100, 1, () => 20).map((c, i) => ({
      ...c,
      call: { ...c.call, service: 'S', method: `m${i % 5}` },
    }));
    const chunks = chunkCalls(input, options);
    // In stream order every chunk would touch all 35 (bucket, scope) pairs (70 actions, 30 calls).
    assert.equal(chunks.length, 2);
    for (const chunk of chunks) assert.ok(chunk.deltas.size <= 5 * (2 + 3), `${chunk.deltas.size} deltas`);
  });

  it('callsOf keeps only what the transition rule counts, with sequence numbers', () => {
    const pending = callRecord({ status: 'pending', grpc_status_code: null, duration_ms: null });
    const records = [
      insert(pending),
      insert(callRecord()),
      streamRecord('REMOVE', { oldImage: imageOf(callRecord()) }),
    ];
    const out = callsOf(records);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.sequenceNumber, records[1]!.dynamodb!.SequenceNumber);
  });
});
