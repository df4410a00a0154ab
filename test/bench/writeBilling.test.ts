import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { billRequest, itemSize, putUnits } from '../../bench/writeBilling';

const gsi = (table: string) =>
  table === 'logs'
    ? [
        ['g1', 'sk'],
        ['g2', 'sk'],
      ]
    : [];
const pkName = (table: string) => (table === 'logs' ? 'request_id' : 'pk');

describe('write billing of the cost bench (DynamoDB rules)', () => {
  it('sizes an item by its names and values', () => {
    // "pk"(2) + "abc"(3) + "n"(1) + 12345 (3 digits-pairs + 1 = 4) + "b"(1) + 4 bytes
    assert.equal(
      itemSize({
        pk: { S: 'abc' },
        n: { N: '12345' },
        b: { B: Buffer.from([1, 2, 3, 4]).toString('base64') },
      }),
      15,
    );
    assert.equal(itemSize({ s: { S: 'é' } }), 3);
  });

  it('bills started KBs plus one unit per GSI entry the item carries', () => {
    const small = { request_id: { S: 'r' }, g1: { S: 'x' }, sk: { S: 's' } };
    assert.equal(putUnits(small, gsi('logs')), 2);
    const big = { request_id: { S: 'r' }, text: { S: 'x'.repeat(1500) } };
    assert.equal(putUnits(big, gsi('logs')), 2);
  });

  it('counts every item of a BatchWriteItem and doubles transactional writes', () => {
    const batch = billRequest(
      'BatchWriteItem',
      {
        RequestItems: {
          logs: [
            {
              PutRequest: {
                Item: { request_id: { S: 'a' }, g1: { S: '1' }, g2: { S: '2' }, sk: { S: 's' } },
              },
            },
          ],
          stats: [{ DeleteRequest: { Key: { pk: { S: 'AGG#DIRTY' }, sk: { S: 'M#x' } } } }],
        },
      },
      gsi,
      pkName,
    );
    assert.deepEqual(
      batch.map((w) => [w.table, w.units, w.pk, w.kind]),
      [
        ['logs', 3, 'a', 'put'],
        ['stats', 1, 'AGG#DIRTY', 'delete'],
      ],
    );
    const tx = billRequest(
      'TransactWriteItems',
      { TransactItems: [{ Put: { TableName: 'stats', Item: { pk: { S: 'p' } } } }] },
      gsi,
      pkName,
    );
    assert.equal(tx[0]!.units, 2);
    assert.deepEqual(billRequest('Query', { TableName: 'stats' }, gsi, pkName), []);
  });
});
