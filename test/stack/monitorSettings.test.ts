import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ALERT_RULES } from '../../core/alerts/config';
import {
  CONTEXT_KEYS,
  ContextError,
  SETTINGS_DEFAULTS,
  settingsFromContext,
  type ContextKey,
} from '../../lib/monitorSettings';

const settings = (context: Partial<Record<ContextKey, unknown>>) =>
  settingsFromContext((key) => context[key]);

describe('settingsFromContext', () => {
  it('gives the documented defaults for an empty context', () => {
    assert.deepEqual(settings({}), SETTINGS_DEFAULTS);
  });

  it('ships a cdk.json whose context spells out exactly the defaults, with known keys only', () => {
    const cdkJson = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
      app: string;
      context: Record<string, unknown>;
    };
    assert.equal(cdkJson.app, 'npx tsx bin/app.ts');
    for (const key of Object.keys(cdkJson.context)) assert.ok(CONTEXT_KEYS.includes(key as ContextKey), key);
    assert.deepEqual(settings(cdkJson.context as Partial<Record<ContextKey, unknown>>), SETTINGS_DEFAULTS);
  });

  it('documents every context key in the README\'s "Context options" table', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('### Context options'),
      readme.indexOf('### What is deployed'),
    );
    const documented = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...documented].sort(), [...CONTEXT_KEYS].sort());
  });

  it('reads `-c key=value` strings', () => {
    const s = settings({
      shards: '4',
      slowThresholdMs: ' 250 ',
      deletionProtection: 'false',
      alertTopicKms: 'true',
      corsAllowOrigins: 'https://a.example.com, http://localhost:3000',
      alertEmail: 'ops@example.com',
      alertRules: '{"cooldownSeconds":60}',
      logRetentionDays: '90',
      sampleSuccess: ' 0.1 ',
      statsFlushMs: '2000',
    });
    assert.equal(s.shards, 4);
    assert.equal(s.slowThresholdMs, 250);
    assert.equal(s.deletionProtection, false);
    assert.equal(s.alertTopicKms, true);
    assert.deepEqual(s.corsAllowOrigins, ['https://a.example.com', 'http://localhost:3000']);
    assert.equal(s.alertEmail, 'ops@example.com');
    assert.deepEqual(s.alertRules, { ...DEFAULT_ALERT_RULES, cooldownSeconds: 60 });
    assert.equal(s.logRetentionDays, 90);
    assert.equal(s.sampleSuccess, 0.1);
    assert.equal(s.statsFlushMs, 2000);
  });

  it('defaults to logging every call and flushing deltas every 10 s', () => {
    assert.equal(SETTINGS_DEFAULTS.sampleSuccess, 1);
    assert.equal(SETTINGS_DEFAULTS.statsFlushMs, 10_000);
    assert.equal(settings({ sampleSuccess: 1 }).sampleSuccess, 1);
    assert.equal(settings({ sampleSuccess: 0.01 }).sampleSuccess, 0.01);
  });

  it('reads cdk.json values (numbers, booleans, lists, an alert rules object)', () => {
    const s = settings({
      retentionDays: 7,
      deletionProtection: false,
      corsAllowOrigins: ['https://dash.example.com'],
      alertRules: { slowCalls: { maxSlowCalls: 3 } },
    });
    assert.equal(s.retentionDays, 7);
    assert.equal(s.deletionProtection, false);
    assert.deepEqual(s.corsAllowOrigins, ['https://dash.example.com']);
    assert.equal(s.alertRules.slowCalls.maxSlowCalls, 3);
    assert.equal(s.alertRules.slowCalls.windowMinutes, DEFAULT_ALERT_RULES.slowCalls.windowMinutes);
  });

  const bad: [Partial<Record<ContextKey, unknown>>, RegExp][] = [
    [{ shards: '0' }, /shards="0" must be a whole number from 1 to 100/],
    [{ shards: 'four' }, /shards/],
    [{ retentionDays: 1.5 }, /retentionDays/],
    [{ slowThresholdMs: -1 }, /slowThresholdMs/],
    [{ logRetentionDays: 2 }, /logRetentionDays=2 must be one of 1, 3, 5/],
    [{ apiThrottleRate: 0 }, /apiThrottleRate/],
    [{ deletionProtection: 'yes' }, /deletionProtection="yes" must be true or false/],
    [{ alertEmail: 'ops.example.com' }, /alertEmail="ops.example.com" is not an email address/],
    [{ tokenSecretName: 'a token' }, /tokenSecretName/],
    [{ corsAllowOrigins: 'ftp://files.example.com' }, /corsAllowOrigins/],
    [{ corsAllowOrigins: 'https://dash.example.com/path' }, /corsAllowOrigins/],
    [{ sampleSuccess: '0' }, /context sampleSuccess="0" must be a rate with 0 < r ≤ 1/],
    [{ sampleSuccess: 0 }, /context sampleSuccess=0 must be a rate with 0 < r ≤ 1/],
    [{ sampleSuccess: '2' }, /context sampleSuccess="2" must be a rate with 0 < r ≤ 1/],
    [{ sampleSuccess: 2 }, /sampleSuccess=2 must be a rate/],
    [{ sampleSuccess: -0.5 }, /sampleSuccess/],
    [{ sampleSuccess: 'half' }, /context sampleSuccess="half" must be a rate/],
    [{ sampleSuccess: true }, /sampleSuccess=true must be a rate/],
    [{ statsFlushMs: '500' }, /context statsFlushMs="500" must be a whole number from 1000 to 60000/],
    [{ statsFlushMs: 120_000 }, /statsFlushMs/],
    [{ statsFlushMs: 1500.5 }, /statsFlushMs/],
    [{ alertRules: '{not json' }, /context alertRules: .*not valid JSON/],
    [
      { alertRules: '{"errorRate":{"tresholdPercent":1}}' },
      /context alertRules: .*errorRate\.tresholdPercent/,
    ],
  ];
  for (const [context, message] of bad) {
    it(`refuses ${JSON.stringify(context)} with a message naming the key`, () => {
      assert.throws(
        () => settings(context),
        (error: unknown) => {
          assert.ok(error instanceof ContextError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
