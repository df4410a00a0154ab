import type { Context } from 'aws-lambda';
import { configFromEnv } from '../../core/config';
import { documentClient, type MonitorDeps } from '../../core/deps';

/** Deps from the Lambda environment the stack sets (region and credentials from the runtime). */
export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): MonitorDeps {
  return { ddb: documentClient({}), config: configFromEnv(env), now: () => new Date() };
}

/**
 * A Lambda `handler` that is built on first invocation, so importing a handler module (the
 * local runtime and tests import them to call the `create…Handler` factories) reads no env.
 */
export function lazyHandler<E, R>(build: () => (event: E, context: Context) => Promise<R>) {
  let handler: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event: E, context: Context): Promise<R> => (handler ??= build())(event, context);
}
