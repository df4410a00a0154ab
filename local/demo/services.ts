import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The demo's UserService and ProductService: small in-memory handlers whose requests choose the
 * outcome (an unknown id is NOT_FOUND, `boom` is INTERNAL, `delay_ms` makes a call slow or lets
 * a client deadline pass), so the traffic generator can produce a realistic mix on purpose.
 */
const PROTO_FILES = ['users.proto', 'products.proto'].map((file) => join(import.meta.dirname, file));

interface DemoPackage {
  api: {
    users: { UserService: grpc.ServiceClientConstructor };
    products: { ProductService: grpc.ServiceClientConstructor };
  };
}

export function loadDemoPackage(): DemoPackage {
  const definition = protoLoader.loadSync(PROTO_FILES, { keepCase: true, longs: Number, defaults: true });
  return grpc.loadPackageDefinition(definition) as unknown as DemoPackage;
}

export interface User {
  id: string;
  username: string;
  email: string;
}

export interface Product {
  sku: string;
  name: string;
  price: number;
}

const USERS: User[] = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((name, i) => ({
  id: String(i + 1),
  username: name,
  email: `${name}@example.com`,
}));

const PRODUCTS: Product[] = [
  ['SKU-1', 'Keyboard', 49.9],
  ['SKU-2', 'Mouse', 19.5],
  ['SKU-3', 'Monitor', 199],
  ['SKU-4', 'Headset', 79],
  ['SKU-5', 'Webcam', 59.99],
].map(([sku, name, price]) => ({ sku: String(sku), name: String(name), price: Number(price) }));

function wait(ms: number, call: { on(event: 'cancelled', listener: () => void): unknown }): Promise<boolean> {
  return new Promise((resolve) => {
    if (!ms) return resolve(true);
    const timer = setTimeout(() => resolve(true), ms);
    call.on('cancelled', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

function failure(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

const userService = {
  GetUser: (async (call, callback) => {
    if (!(await wait(call.request.delay_ms, call))) return;
    if (call.request.id === 'boom')
      return callback(failure(grpc.status.INTERNAL, 'database connection lost'));
    const user = USERS.find((u) => u.id === call.request.id);
    if (!user) return callback(failure(grpc.status.NOT_FOUND, `user ${call.request.id} not found`));
    callback(null, user);
  }) as Unary<{ id: string; delay_ms: number }, User>,

  ListUsers: (async (call) => {
    for (const user of USERS.slice(0, call.request.limit || USERS.length)) {
      if (!(await wait(call.request.delay_ms, call))) return;
      call.write(user);
    }
    call.end();
  }) as grpc.handleServerStreamingCall<{ limit: number; delay_ms: number }, User>,

  ImportUsers: ((call, callback) => {
    let imported = 0;
    let rejected = 0;
    call.on('data', (user: User) => (user.email.includes('@') ? imported++ : rejected++));
    call.on('end', () =>
      rejected > imported
        ? callback(failure(grpc.status.INVALID_ARGUMENT, `${rejected} users have no valid email`))
        : callback(null, { imported, rejected }),
    );
  }) as grpc.handleClientStreamingCall<User, { imported: number; rejected: number }>,

  Chat: ((call) => {
    call.on('data', (message: { from: string; text: string }) =>
      call.write({ from: 'server', text: `echo: ${message.text}` }),
    );
    call.on('end', () => call.end());
  }) as grpc.handleBidiStreamingCall<{ from: string; text: string }, { from: string; text: string }>,
};

const productService = {
  GetProduct: (async (call, callback) => {
    if (!(await wait(call.request.delay_ms, call))) return;
    const product = PRODUCTS.find((p) => p.sku === call.request.sku);
    if (!product) return callback(failure(grpc.status.NOT_FOUND, `product ${call.request.sku} not found`));
    callback(null, product);
  }) as Unary<{ sku: string; delay_ms: number }, Product>,

  SearchProducts: ((call) => {
    const query = call.request.query.toLowerCase();
    if (query === 'boom') {
      call.emit('error', failure(grpc.status.INTERNAL, 'search index unavailable'));
      return;
    }
    for (const product of PRODUCTS.filter((p) => p.name.toLowerCase().includes(query)).slice(
      0,
      call.request.limit || PRODUCTS.length,
    )) {
      call.write(product);
    }
    call.end();
  }) as grpc.handleServerStreamingCall<{ query: string; limit: number }, Product>,

  ImportProducts: ((call, callback) => {
    let imported = 0;
    call.on('data', () => imported++);
    call.on('end', () => callback(null, { imported }));
  }) as grpc.handleClientStreamingCall<Product, { imported: number }>,

  WatchPrices: ((call) => {
    call.on('data', (query: { sku: string }) => {
      const product = PRODUCTS.find((p) => p.sku === query.sku);
      if (product) call.write({ sku: product.sku, price: product.price });
    });
    call.on('end', () => call.end());
  }) as grpc.handleBidiStreamingCall<{ sku: string }, { sku: string; price: number }>,
};

/** Adds both demo services to a server. */
export function addDemoServices(server: grpc.Server, demo: DemoPackage = loadDemoPackage()): void {
  server.addService(demo.api.users.UserService.service, userService);
  server.addService(demo.api.products.ProductService.service, productService);
}
