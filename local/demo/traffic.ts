import * as grpc from '@grpc/grpc-js';
import { loadDemoPackage } from './services';

/**
 * Demo traffic: a steady trickle of calls to the demo services with a realistic mix of
 * successes, NOT_FOUND and INTERNAL errors, a rejected client stream, timeouts (a deadline
 * shorter than the work), cancellations (a client that hangs up mid-stream) and slow calls.
 */
export interface DemoTrafficOptions {
  readonly address: string;
  /** Average calls per second; default 4. */
  readonly callsPerSecond?: number;
  /** A call at or over this is slow (the monitor's threshold), so the slow calls cross it. */
  readonly slowThresholdMs: number;
}

export interface DemoTraffic {
  readonly counts: { started: number; finished: number };
  stop(): Promise<void>;
}

type Clients = Record<'users' | 'products', grpc.Client & Record<string, (...args: never[]) => unknown>>;
type Scenario = (clients: Clients, slowMs: number) => Promise<void>;

function deadlineIn(ms: number): grpc.CallOptions {
  return { deadline: new Date(Date.now() + ms) };
}

function unary(client: Clients['users'], method: string, request: object, options: grpc.CallOptions = {}) {
  return new Promise<void>((resolve) => {
    const call = client[method] as unknown as (
      req: object,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (error: grpc.ServiceError | null) => void,
    ) => grpc.ClientUnaryCall;
    const metadata = new grpc.Metadata();
    metadata.set('user-agent', 'grpc-monitor-demo');
    call.call(client, request, metadata, options, () => resolve());
  });
}

function serverStream(client: Clients['users'], method: string, request: object, cancelAfter?: number) {
  return new Promise<void>((resolve) => {
    const call = (client[method] as unknown as (req: object) => grpc.ClientReadableStream<unknown>).call(
      client,
      request,
    );
    let received = 0;
    call.on('data', () => {
      received += 1;
      if (cancelAfter !== undefined && received >= cancelAfter) call.cancel();
    });
    call.on('error', () => resolve());
    call.on('end', () => resolve());
  });
}

function clientStream(client: Clients['users'], method: string, messages: object[]) {
  return new Promise<void>((resolve) => {
    const call = (
      client[method] as unknown as (
        cb: (error: grpc.ServiceError | null) => void,
      ) => grpc.ClientWritableStream<object>
    ).call(client, () => resolve());
    for (const message of messages) call.write(message);
    call.end();
  });
}

function bidi(client: Clients['users'], method: string, messages: object[]) {
  return new Promise<void>((resolve) => {
    const call = (client[method] as unknown as () => grpc.ClientDuplexStream<object, unknown>).call(client);
    call.on('data', () => {});
    call.on('error', () => resolve());
    call.on('end', () => resolve());
    for (const message of messages) call.write(message);
    call.end();
  });
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const userId = () => String(1 + Math.floor(Math.random() * 6));

/** [weight, scenario]: mostly successes, then the kinds of failure a real service sees. */
const SCENARIOS: ReadonlyArray<readonly [number, Scenario]> = [
  [38, (c) => unary(c.users, 'GetUser', { id: userId() })],
  [3, (c) => unary(c.users, 'GetUser', { id: String(100 + Math.floor(Math.random() * 900)) })],
  [1, (c) => unary(c.users, 'GetUser', { id: 'boom' })],
  [3, (c, slow) => unary(c.users, 'GetUser', { id: userId(), delay_ms: slow + 100 + Math.random() * 400 })],
  [3, (c) => unary(c.users, 'GetUser', { id: userId(), delay_ms: 600 }, deadlineIn(250))],
  [9, (c) => serverStream(c.users, 'ListUsers', { limit: 3 + Math.floor(Math.random() * 3) })],
  [2, (c) => serverStream(c.users, 'ListUsers', { limit: 6, delay_ms: 100 }, 2)],
  [
    4,
    (c) => clientStream(c.users, 'ImportUsers', [{ id: 'n1', username: 'nina', email: 'nina@example.com' }]),
  ],
  [1, (c) => clientStream(c.users, 'ImportUsers', [{ id: 'x', username: 'x', email: 'not-an-email' }])],
  [
    4,
    (c) =>
      bidi(c.users, 'Chat', [
        { from: 'demo', text: 'hi' },
        { from: 'demo', text: 'bye' },
      ]),
  ],
  [15, (c) => unary(c.products, 'GetProduct', { sku: `SKU-${1 + Math.floor(Math.random() * 5)}` })],
  [2, (c) => unary(c.products, 'GetProduct', { sku: 'SKU-404' })],
  [2, (c, slow) => unary(c.products, 'GetProduct', { sku: 'SKU-3', delay_ms: slow + 200 })],
  [6, (c) => serverStream(c.products, 'SearchProducts', { query: pick(['o', 'e', 'key', 'cam']) })],
  [1, (c) => serverStream(c.products, 'SearchProducts', { query: 'boom' })],
  [3, (c) => clientStream(c.products, 'ImportProducts', [{ sku: 'SKU-9', name: 'Dock', price: 120 }])],
  [3, (c) => bidi(c.products, 'WatchPrices', [{ sku: 'SKU-1' }, { sku: 'SKU-2' }])],
];

function chooseScenario(): Scenario {
  const total = SCENARIOS.reduce((sum, [weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [weight, scenario] of SCENARIOS) {
    roll -= weight;
    if (roll < 0) return scenario;
  }
  return SCENARIOS[0]![1];
}

export function startDemoTraffic(options: DemoTrafficOptions): DemoTraffic {
  const demo = loadDemoPackage();
  const credentials = grpc.credentials.createInsecure();
  const clients = {
    users: new demo.api.users.UserService(options.address, credentials),
    products: new demo.api.products.ProductService(options.address, credentials),
  } as unknown as Clients;
  const meanGapMs = 1000 / (options.callsPerSecond ?? 4);
  const inFlight = new Set<Promise<void>>();
  const counts = { started: 0, finished: 0 };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const next = () => {
    if (stopped) return;
    counts.started += 1;
    const call = chooseScenario()(clients, options.slowThresholdMs)
      .catch(() => {})
      .finally(() => {
        counts.finished += 1;
        inFlight.delete(call);
      });
    inFlight.add(call);
    // Exponential gaps: arrivals look like independent users, not a metronome.
    timer = setTimeout(next, -Math.log(1 - Math.random()) * meanGapMs);
  };
  timer = setTimeout(next, 200);

  return {
    counts,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // Slow calls take about a second and a half; waiting for them keeps their records whole.
      await Promise.race([Promise.all([...inFlight]), new Promise((r) => setTimeout(r, 3_000))]);
      clients.users.close();
      clients.products.close();
    },
  };
}
