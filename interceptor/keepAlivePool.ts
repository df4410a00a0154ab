/**
 * A minimal HTTP/1.1 client for the writer's BatchWriteItem requests: a few keep-alive
 * connections to one host, a request written as one head and one body, an answer read by
 * Content-Length (or chunks, or until close). Node's `http` client does much more per request
 * (a ClientRequest and an IncomingMessage with their streams, header validation, the agent's
 * bookkeeping, several ticks), and on the writer thread that was the largest share of the CPU per
 * request; see docs/interceptor.md, "Costs".
 */
import net from 'node:net';
import tls from 'node:tls';

export interface PoolTarget {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  /** Certificates to trust instead of Node's bundled CAs (a private endpoint's CA); https only. */
  readonly ca?: string | Buffer;
}

export interface PoolTimeouts {
  /** A connection not open after this long fails the request. */
  readonly connectionTimeoutMs: number;
  /** A request with no socket activity for this long fails. */
  readonly requestTimeoutMs: number;
}

/** An answer: any status resolves; a network failure or timeout rejects. */
export interface HttpAnswer {
  readonly status: number;
  /** The `Date` header. */
  readonly date: string | undefined;
  readonly body: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');
/** Idle connections kept (the writer has a few requests in flight at most). */
const MAX_IDLE = 8;

interface Pending {
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (error: Error) => void;
}

/** One socket and the request it carries, if any. */
class Connection {
  pending: Pending | undefined;
  /** True once any byte of the current answer arrived (a reused socket that closes before is stale). */
  answered = false;
  closed = false;
  private chunks: Buffer[] = [];
  private received = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly onIdle: (connection: Connection) => void,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('timeout', () => this.fail(timeoutError('no answer from DynamoDB in time'), true));
    socket.on('error', (error) => this.fail(error, true));
    socket.on('close', () => {
      this.closed = true;
      this.onClosed(this);
      if (this.pending) {
        try {
          this.end(true);
        } catch (error) {
          this.fail(error as Error, true);
        }
      }
    });
  }

  send(head: string, body: Buffer, pending: Pending, requestTimeoutMs: number): void {
    this.pending = pending;
    this.answered = false;
    this.chunks = [];
    this.received = 0;
    this.socket.ref();
    this.socket.setTimeout(requestTimeoutMs);
    this.socket.cork();
    this.socket.write(head, 'latin1');
    this.socket.write(body);
    this.socket.uncork();
  }

  /** Fails the current request (if any) and drops the socket. */
  fail(error: Error, destroy: boolean): void {
    const pending = this.pending;
    this.pending = undefined;
    if (destroy) this.socket.destroy();
    pending?.reject(error);
  }

  private data(chunk: Buffer): void {
    if (!this.pending) {
      this.socket.destroy(); // bytes nobody asked for: the connection is out of step
      return;
    }
    this.answered = true;
    this.chunks.push(chunk);
    this.received += chunk.length;
    try {
      this.tryParse(false);
    } catch (error) {
      this.fail(error as Error, true);
    }
  }

  /** The socket ended: an answer delimited by the close is complete, any other is cut short. */
  private end(closed: boolean): void {
    if (!this.tryParse(closed) && this.pending) {
      const error = new Error('socket hang up');
      (error as Error & { code: string }).code = 'ECONNRESET';
      this.fail(error, true);
    }
  }

  /** Resolves the request when its whole answer is in; true when it did. */
  private tryParse(closed: boolean): boolean {
    let all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received);
    this.chunks = [all];
    for (;;) {
      const headEnd = all.indexOf(HEADER_END);
      if (headEnd < 0) return false;
      const head = parseHead(all.toString('latin1', 0, headEnd));
      if (!head) {
        this.fail(new Error('DynamoDB answered something that is not HTTP/1.1'), true);
        return true;
      }
      const rest = all.subarray(headEnd + 4);
      if (head.status >= 100 && head.status < 200) {
        all = rest; // an interim answer (100 Continue): the real one follows
        this.chunks = [all];
        this.received = all.length;
        continue;
      }
      let body: Buffer | undefined;
      if (head.chunked) body = dechunk(rest);
      else if (head.length !== undefined)
        body = rest.length >= head.length ? rest.subarray(0, head.length) : undefined;
      else if (closed) body = rest;
      if (!body) return false;
      const pending = this.pending!;
      this.pending = undefined;
      this.chunks = [];
      this.received = 0;
      if (head.close || closed) this.socket.destroy();
      else {
        // Idle, it holds no process alive (as node:http's agent does with its free sockets).
        this.socket.setTimeout(0);
        this.socket.unref();
        this.onIdle(this);
      }
      pending.resolve({ status: head.status, date: head.date, body: body.toString('utf8') });
      return true;
    }
  }
}

interface Head {
  status: number;
  length: number | undefined;
  chunked: boolean;
  close: boolean;
  date: string | undefined;
}

/** Status line and the headers an answer's framing needs. */
function parseHead(text: string): Head | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]!);
  if (!status) return undefined;
  const head: Head = {
    status: Number(status[2]),
    length: undefined,
    chunked: false,
    close: status[1] === '0',
    date: undefined,
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') head.length = Number(value);
    else if (name === 'transfer-encoding') head.chunked = value.toLowerCase().includes('chunked');
    else if (name === 'connection') head.close = value.toLowerCase() === 'close';
    else if (name === 'date') head.date = value;
  }
  if (head.status === 204 || head.status === 304) head.length = 0;
  return head;
}

/** The body of a complete chunked encoding, or undefined while it is incomplete. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.toString('latin1', at, lineEnd).split(';')[0]!, 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    at = lineEnd + 2;
    if (size === 0) {
      // Trailers, if any, end with an empty line.
      const end = data.indexOf(HEADER_END, at - 2);
      return end < 0 ? undefined : Buffer.concat(parts);
    }
    if (data.length < at + size + 2) return undefined;
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

function timeoutError(message: string): Error {
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

/** Keep-alive connections to one target; `post` sends one request on a free one (or a new one). */
export class KeepAlivePool {
  private idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private destroyed = false;

  constructor(
    private readonly to: PoolTarget,
    private readonly timeouts: PoolTimeouts,
  ) {}

  /** POSTs `body` with `headers` (which carry `host` and `content-length`) to the target's path. */
  post(headers: Readonly<Record<string, string>>, body: Buffer): Promise<HttpAnswer> {
    let head = `POST ${this.to.path} HTTP/1.1\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    head += 'connection: keep-alive\r\n\r\n';
    return new Promise((resolve, reject) => this.attempt(head, body, resolve, reject));
  }

  /** Closes every connection. */
  destroy(): void {
    this.destroyed = true;
    for (const connection of this.open) connection.fail(new Error('the writer was closed'), true);
    this.open.clear();
    this.idle = [];
  }

  private attempt(
    head: string,
    body: Buffer,
    resolve: (answer: HttpAnswer) => void,
    reject: (error: Error) => void,
  ): void {
    if (this.destroyed) return reject(new Error('the writer was closed'));
    let reused: Connection | undefined;
    while ((reused = this.idle.pop()) && reused.closed);
    const connection = reused ?? this.connect();
    connection.send(
      head,
      body,
      {
        resolve,
        reject: (error) => {
          // A kept-alive socket the server closed while idle fails before any answer: that
          // request never reached it, so it goes once more on a fresh connection.
          if (reused && !connection.answered && !this.destroyed && isConnectionLoss(error)) {
            this.attempt(head, body, resolve, reject);
          } else reject(error);
        },
      },
      this.timeouts.requestTimeoutMs,
    );
  }

  private connect(): Connection {
    const { protocol, hostname, port } = this.to;
    const socket =
      protocol === 'http:'
        ? net.connect({ host: hostname, port: port ?? 80 })
        : tls.connect({
            host: hostname,
            port: port ?? 443,
            servername: net.isIP(hostname) ? undefined : hostname,
            ALPNProtocols: ['http/1.1'],
            ...(this.to.ca !== undefined && { ca: this.to.ca }),
          });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1_000);
    const connection = new Connection(
      socket,
      (c) => {
        if (this.destroyed || this.idle.length >= MAX_IDLE) c.socket.destroy();
        else this.idle.push(c);
      },
      (c) => {
        this.open.delete(c);
        this.idle = this.idle.filter((other) => other !== c);
      },
    );
    this.open.add(connection);
    const timer = setTimeout(
      () =>
        connection.fail(
          timeoutError(`no connection to DynamoDB in ${this.timeouts.connectionTimeoutMs} ms`),
          true,
        ),
      this.timeouts.connectionTimeoutMs,
    );
    socket.once(protocol === 'http:' ? 'connect' : 'secureConnect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return connection;
  }
}

const isConnectionLoss = (error: Error): boolean => {
  const code = (error as Error & { code?: string }).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
};
