import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { KeepAlivePool, type HttpAnswer } from '../../interceptor/keepAlivePool';

const TIMEOUTS = { connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 };

/** A raw TCP server: `answer` gets each request's bytes (once complete) and its socket. */
async function rawServer(answer: (request: string, socket: Socket) => void): Promise<{
  port: number;
  connections: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const state = { port: 0, connections: 0, close: async () => {} };
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const headEnd = data.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? 0);
      if (data.length < headEnd + 4 + length) return;
      const request = data.slice(0, headEnd + 4 + length);
      data = data.slice(request.length);
      answer(request, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return state;
}

const target = (port: number) => ({ protocol: 'http:' as const, hostname: '127.0.0.1', port, path: '/' });
const headers = (body: Buffer) => ({ host: 'x', 'content-length': String(body.length) });
const body = Buffer.from('{"ü":1}');

describe('KeepAlivePool', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers) await close();
  });

  test('sends head and body as written; reads a Content-Length answer and reuses the connection', async () => {
    const requests: string[] = [];
    const server = await rawServer((request, socket) => {
      requests.push(request);
      socket.write('HTTP/1.1 200 OK\r\nDate: Fri, 04 Dec 2026 05:00:00 GMT\r\nContent-Length: 8\r\n\r\n');
      setTimeout(() => socket.write(Buffer.from('{"é":1}')), 5); // the body in a later packet
    });
    closers.push(server.close);
    const pool = new KeepAlivePool(target(server.port), TIMEOUTS);
    const first = await pool.post(headers(body), body);
    const second = await pool.post(headers(body), body);
    pool.destroy();
    const expected: HttpAnswer = { status: 200, date: 'Fri, 04 Dec 2026 05:00:00 GMT', body: '{"é":1}' };
    assert.deepEqual(first, expected);
    assert.deepEqual(second, first);
    assert.equal(server.connections, 1, 'one kept-alive connection');
    assert.equal(
      requests[0],
      `POST / HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n` +
        body.toString('latin1'),
    );
  });

  test('reads chunked answers and answers that end with the connection; Connection: close is honoured', async () => {
    let n = 0;
    const server = await rawServer((_request, socket) => {
      n++;
      if (n === 1)
        socket.write(
          'HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n',
        );
      else if (n === 2) socket.end('HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
      else socket.end('HTTP/1.0 200 OK\r\n\r\nuntil close');
    });
    closers.push(server.close);
    const pool = new KeepAlivePool(target(server.port), TIMEOUTS);
    assert.deepEqual(await pool.post(headers(body), body), { status: 400, date: undefined, body: 'abcde' });
    assert.deepEqual(await pool.post(headers(body), body), { status: 500, date: undefined, body: 'ok' });
    assert.deepEqual(await pool.post(headers(body), body), {
      status: 200,
      date: undefined,
      body: 'until close',
    });
    pool.destroy();
    assert.equal(server.connections, 2, 'a new connection after Connection: close');
  });

  test('a kept-alive connection the server closes as the request arrives: it goes again on a new one', async () => {
    const served = new WeakSet<Socket>();
    const server = await rawServer((_request, socket) => {
      // The race of a server's idle timeout: the second request on a connection meets its close.
      if (served.has(socket)) return void socket.destroy();
      served.add(socket);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
    });
    closers.push(server.close);
    const pool = new KeepAlivePool(target(server.port), TIMEOUTS);
    await pool.post(headers(body), body);
    assert.equal((await pool.post(headers(body), body)).status, 200);
    pool.destroy();
    assert.equal(server.connections, 2);
  });

  test('a connection cut in the middle of an answer fails the request; so does silence, after the timeout', async () => {
    const server = await rawServer((request, socket) => {
      if (request.includes('cut')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}');
    });
    closers.push(server.close);
    const pool = new KeepAlivePool(target(server.port), {
      connectionTimeoutMs: 2_000,
      requestTimeoutMs: 100,
    });
    const cut = Buffer.from('cut');
    await assert.rejects(pool.post(headers(cut), cut), { code: 'ECONNRESET' });
    await assert.rejects(pool.post(headers(body), body), { name: 'TimeoutError' });
    pool.destroy();
  });

  test('works against node:http’s server (keep-alive, its own framing)', async () => {
    const server = createHttpServer((request, response) => {
      let received = '';
      request.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
      request.on('end', () => {
        response.write(received);
        response.end('!'); // two writes: chunked
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    });
    const pool = new KeepAlivePool(target((server.address() as AddressInfo).port), TIMEOUTS);
    for (let i = 0; i < 3; i++) {
      const { status, body: answer } = await pool.post(headers(body), body);
      assert.deepEqual({ status, answer }, { status: 200, answer: '{"ü":1}!' });
    }
    pool.destroy();
  });
  test('speaks TLS to an https target and verifies its certificate (AWS endpoints are https only)', async () => {
    // Prepare: an https server with a self-signed certificate for localhost (test/fixtures).
    const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
    const cert = fixture('tls-localhost.crt');
    let secure = 0;
    const server = createHttpsServer({ cert, key: fixture('tls-localhost.key') }, (req, res) => {
      if ((req.socket as { encrypted?: boolean }).encrypted) secure++;
      req.resume();
      req.on('end', () => res.end('{"ok":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const https = { protocol: 'https:' as const, hostname: 'localhost', port, path: '/' };

    // Act: trusted through `ca`, then without it.
    const trusted = new KeepAlivePool({ ...https, ca: cert }, TIMEOUTS);
    const answer = await trusted.post(headers(body), body);
    const untrusted = new KeepAlivePool(https, TIMEOUTS);
    const refused = await untrusted.post(headers(body), body).then(
      () => undefined,
      (error: Error) => error,
    );
    trusted.destroy();
    untrusted.destroy();

    // Assess
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '{"ok":true}');
    assert.equal(secure, 1);
    assert.match(String(refused?.message), /self[- ]signed|certificate/i);
  });
});
