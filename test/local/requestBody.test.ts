import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type RouteHandler, type RunningApiServer } from '../../local/apiServer';

/** Issue 18, finding 9: the local API server must not buffer (or read) a request body. */

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request; `body` is written in 1 MB chunks. An error after the answer arrived is the server closing early. */
function send(
  url: string,
  method: string,
  headers: IncomingHttpHeaders,
  body?: { chunks: number; chunk: Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method, headers }, (res) => {
      answered = true;
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    if (!body) {
      req.end();
      return;
    }
    let left = body.chunks;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (req.destroyed) return;
        if (!req.write(body.chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('local API server: request bodies', () => {
  let server: RunningApiServer;
  const seen: (string | undefined)[] = [];
  const health: RouteHandler = async (event) => {
    seen.push(event.body);
    return { statusCode: 200, body: '{"status":"ok"}' };
  };
  const healthUrl = () => `${server.url}/cfg/grpc/monitor/health/`;

  before(async () => {
    server = await startApiServer({
      port: 0,
      handlers: new Map([['health', health]]),
      authorizer: async () => ({ isAuthorized: false }),
    });
  });
  after(() => server.close());

  it('answers a GET without a body as before', async () => {
    const answer = await send(healthUrl(), 'GET', {});
    assert.deepEqual(answer, { status: 200, body: '{"status":"ok"}' });
  });

  it('answers 413 to a 30 MB body to /health/, without handing it to the handler', async () => {
    const before = seen.length;
    const answer = await send(
      healthUrl(),
      'POST',
      { 'content-length': String(30 * 1024 * 1024) },
      { chunks: 30, chunk: Buffer.alloc(1024 * 1024, 0x61) },
    );
    assert.equal(answer.status, 413);
    assert.deepEqual(JSON.parse(answer.body), { message: 'Request Entity Too Large' });
    assert.equal(seen.length, before, 'the handler never ran');
  });

  it('answers 413 to any body: a few bytes on a GET, or a chunked upload', async () => {
    const small = await send(
      healthUrl(),
      'GET',
      { 'content-length': '5' },
      { chunks: 1, chunk: Buffer.from('hello') },
    );
    assert.equal(small.status, 413);
    const chunked = await send(
      healthUrl(),
      'GET',
      { 'transfer-encoding': 'chunked' },
      { chunks: 3, chunk: Buffer.alloc(64 * 1024, 0x62) },
    );
    assert.equal(chunked.status, 413);
  });

  it('still serves after refusing bodies', async () => {
    assert.equal((await send(healthUrl(), 'GET', {})).status, 200);
  });
});
