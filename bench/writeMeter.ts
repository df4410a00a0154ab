/**
 * A metering proxy in front of DynamoDB Local: every component of the system under test (the
 * monitors' writers, the stream pollers' handlers, the API) talks to it as its DynamoDB
 * endpoint, and it bills each write request by DynamoDB's rules (writeBilling.ts) before passing
 * it on unchanged. So the cost bench counts what the real pipeline sends, not a model of it.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { billRequest, type BilledWrite } from './writeBilling';

export interface WriteMeter {
  readonly endpoint: string;
  /** Every billed write so far, in arrival order (with the time it was seen). */
  readonly writes: ReadonlyArray<BilledWrite & { at: number }>;
  /** Read requests seen, by operation. */
  readonly reads: ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

const body = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

export async function startWriteMeter(
  target: string,
  tables: {
    gsiKeys: (table: string) => ReadonlyArray<readonly string[]>;
    pkName: (table: string) => string;
  },
): Promise<WriteMeter> {
  const upstream = new URL(target);
  const writes: Array<BilledWrite & { at: number }> = [];
  const reads = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    void body(req).then((raw) => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const billed = op
        ? billRequest(op, JSON.parse(raw.toString('utf8') || '{}'), tables.gsiKeys, tables.pkName)
        : [];
      // Billed when DynamoDB accepts the request: a throttled or failed one costs nothing.
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          if ((answer.statusCode ?? 500) < 300) {
            const at = Date.now();
            if (billed.length > 0) for (const w of billed) writes.push({ ...w, at });
            else if (op) reads.set(op, (reads.get(op) ?? 0) + 1);
          }
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      forward.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    writes,
    reads,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
