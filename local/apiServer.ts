import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerResult,
  Context,
} from 'aws-lambda';
import { API_BASE_PATH, API_ROUTES, type ApiRoute } from '../core/apiRoutes';
import type { MonitorDeps } from '../core/deps';
import {
  API_METHOD,
  compileRoute,
  findRoute,
  fromProxyResult,
  gatewayError,
  lambdaContext,
  toAuthorizerEvent,
  toProxyEvent,
  type HttpResponse,
  type IncomingHttpRequest,
} from './apiGatewayEvent';

/**
 * The local stand-in for API Gateway HTTP API: node:http in front of the same route handlers
 * and token authorizer the stack deploys, dispatched by the same route table.
 */
export type RouteHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;
export type Authorizer = (
  event: APIGatewayRequestAuthorizerEventV2,
  context: Context,
) => Promise<APIGatewaySimpleAuthorizerResult>;

export interface ApiServerOptions {
  readonly handlers: ReadonlyMap<string, RouteHandler>;
  readonly authorizer: Authorizer;
  readonly routes?: readonly ApiRoute[];
  /** Where a request is logged when a handler throws; default console.error. */
  readonly onError?: (error: unknown, route: string) => void;
}

interface RouteModule {
  createHandler?: (deps: MonitorDeps) => RouteHandler;
}

interface AuthorizerModule {
  createAuthorizer?: (options: { token: () => Promise<string> }) => Authorizer;
}

/** Each route's handler, built from its module `lambdas/api/<name>.ts` with `createHandler(deps)`. */
export async function loadRouteHandlers(
  deps: MonitorDeps,
  routes: readonly ApiRoute[] = API_ROUTES,
): Promise<Map<string, RouteHandler>> {
  const handlers = new Map<string, RouteHandler>();
  for (const route of routes) {
    const module = (await import(`../lambdas/api/${route.name}`)) as RouteModule;
    if (typeof module.createHandler !== 'function') {
      throw new Error(`lambdas/api/${route.name}.ts does not export createHandler(deps)`);
    }
    handlers.set(route.name, module.createHandler(deps));
  }
  return handlers;
}

export async function loadAuthorizer(token: string): Promise<Authorizer> {
  const module = (await import('../lambdas/api/authorizer')) as AuthorizerModule;
  if (typeof module.createAuthorizer !== 'function') {
    throw new Error('lambdas/api/authorizer.ts does not export createAuthorizer(options)');
  }
  return module.createAuthorizer({ token: async () => token });
}

/**
 * Every route is a GET, which carries no body: a request that announces one (a length above 0,
 * or a chunked transfer) is refused before a byte of it is read, so no client can make the
 * server buffer, or even read, a large upload.
 */
export function announcesBody(headers: IncomingMessage['headers']): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

const TOO_LARGE: HttpResponse = {
  statusCode: 413,
  headers: { 'content-type': 'application/json', connection: 'close' },
  body: Buffer.from(JSON.stringify({ message: 'Request Entity Too Large' })),
};

function redirect(location: string): HttpResponse {
  return { statusCode: 302, headers: { location }, body: Buffer.alloc(0) };
}

/** Decides the response to one request: route, authorize, invoke, translate. */
export function createGateway(
  options: ApiServerOptions,
): (request: IncomingHttpRequest) => Promise<HttpResponse> {
  const routes = options.routes ?? API_ROUTES;
  const matchers = routes.map(compileRoute);
  const onError = options.onError ?? ((error, route) => console.error(`[api] ${route} failed:`, error));
  const uiRoute = routes.find((route) => route.name === 'ui');

  return async function dispatch(request) {
    const path = request.url.split('?')[0] ?? '/';
    // A convenience API Gateway lacks: the bare host opens the dashboard.
    if (uiRoute && (path === '/' || path === API_BASE_PATH || path === `${API_BASE_PATH}/`)) {
      return redirect(uiRoute.path);
    }
    const found = findRoute(matchers, path);
    if (!found || request.method.toUpperCase() !== API_METHOD) return gatewayError(404, 'Not Found');
    const { matcher, pathParameters } = found;
    const event = toProxyEvent(request, matcher.routeKey, pathParameters);

    if (!matcher.route.public) {
      // API Gateway answers 401 itself when the identity source is missing.
      if (!event.headers.authorization) return gatewayError(401, 'Unauthorized');
      try {
        const verdict = await options.authorizer(
          toAuthorizerEvent(event),
          lambdaContext('authorizer', event.requestContext.requestId),
        );
        if (!verdict.isAuthorized) return gatewayError(401, 'Unauthorized');
        const context = (verdict as { context?: Record<string, unknown> }).context ?? {};
        Object.assign(event.requestContext, { authorizer: { lambda: context } });
      } catch (error) {
        onError(error, 'authorizer');
        return gatewayError(500, 'Internal Server Error');
      }
    }

    const handler = options.handlers.get(matcher.route.name);
    if (!handler) return gatewayError(404, 'Not Found');
    try {
      return fromProxyResult(
        await handler(event, lambdaContext(matcher.route.name, event.requestContext.requestId)),
      );
    } catch (error) {
      onError(error, matcher.routeKey);
      return gatewayError(500, 'Internal Server Error');
    }
  };
}

export interface RunningApiServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly what: string,
  ) {
    super(`port ${port} is in use: choose another for the ${what} (or stop what is using it)`);
  }
}

/** Listens on host:port (0 picks a free port); a taken port rejects with PortInUseError. */
export async function startApiServer(
  options: ApiServerOptions & { port: number; host?: string },
): Promise<RunningApiServer> {
  const dispatch = createGateway(options);
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (announcesBody(req.headers)) {
      // Answer, then close the connection rather than read (or drain) what the client still sends.
      res.writeHead(TOO_LARGE.statusCode, { ...TOO_LARGE.headers, 'content-length': TOO_LARGE.body.length });
      res.end(TOO_LARGE.body, () => req.destroy());
      return;
    }
    void (async () => {
      let response: HttpResponse;
      try {
        response = await dispatch({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          body: Buffer.alloc(0),
          sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        });
      } catch (error) {
        (options.onError ?? console.error)(error, 'request');
        response = gatewayError(500, 'Internal Server Error');
      }
      res.writeHead(response.statusCode, { ...response.headers, 'content-length': response.body.length });
      res.end(req.method === 'HEAD' ? undefined : response.body);
    })();
  });
  // Idle keep-alive sockets would hold close() open.
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' ? new PortInUseError(options.port, 'API server (--api-port)') : error,
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
