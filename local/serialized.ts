/**
 * One call at a time, in order: what reserved concurrency 1 gives the aggregate Lambda in AWS,
 * for the local stream poller and the close-pass tick that share its handler.
 */
export function serialized<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return (...args: A) => {
    const run = tail.then(() => fn(...args));
    tail = run.catch(() => undefined);
    return run;
  };
}
