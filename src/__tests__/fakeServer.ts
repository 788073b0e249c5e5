/**
 * A scripted stand-in for the server's REST API, plugged into the packages
 * model as its request helper. Each test says what each route answers and
 * reads back the calls that were made.
 */
import { IJob, IPackage } from '../packages/api';
import { APIError, RequestFn } from '../request';
import { healthyStatus } from './fixtures';

export interface ICall {
  method: string;
  /** Endpoint below the API namespace, without the query. */
  path: string;
  query: URLSearchParams;
  body: any;
}

export type Handler = (call: ICall) => unknown;

export class FakeServer {
  readonly calls: ICall[] = [];

  /** Answer `method path` (a string or a pattern) with `handler`. */
  on(method: string, path: string | RegExp, handler: Handler): this {
    // Later routes win, so a test can override a default.
    this._routes.unshift({ method, path, handler });
    return this;
  }

  /** Calls to a route, in order. */
  callsTo(method: string, path: string | RegExp): ICall[] {
    return this.calls.filter(
      call => call.method === method && matches(path, call.path)
    );
  }

  readonly request: RequestFn = async <T>(
    endpoint: string,
    init: RequestInit = {}
  ): Promise<T> => {
    const [path, query = ''] = endpoint.split('?');
    const method = (init.method ?? 'GET').toUpperCase();
    const call: ICall = {
      method,
      path,
      query: new URLSearchParams(query),
      body: init.body ? JSON.parse(init.body as string) : undefined
    };
    this.calls.push(call);
    const route = this._routes.find(
      r => r.method === method && matches(r.path, path)
    );
    if (!route) {
      throw apiError(404, { message: `No route ${method} ${path}` });
    }
    // Like a real answer: never in the same tick.
    await Promise.resolve();
    return (await route.handler(call)) as T;
  };

  private _routes: {
    method: string;
    path: string | RegExp;
    handler: Handler;
  }[] = [];
}

function matches(path: string | RegExp, actual: string): boolean {
  return typeof path === 'string' ? path === actual : path.test(actual);
}

/** The error the real request helper throws for a non-2xx answer. */
export function apiError(status: number, body: unknown): APIError {
  const message =
    body && typeof body === 'object' && 'message' in body
      ? String((body as any).message)
      : '';
  return new APIError(
    new Response(JSON.stringify(body), { status }),
    message,
    body
  );
}

/** A handler that throws `apiError(status, body)`. */
export function fails(status: number, body: unknown): Handler {
  return () => {
    throw apiError(status, body);
  };
}

export function job(overrides: Partial<IJob> = {}): IJob {
  const log = overrides.log ?? [];
  const offset = overrides.offset ?? 0;
  return {
    id: 'job1',
    kind: 'install',
    specs: ['jmp-live'],
    state: 'queued',
    exit_code: null,
    message: '',
    created: 1000,
    started: null,
    finished: null,
    log,
    offset,
    next_offset: offset + log.length,
    ...overrides
  };
}

export const PACKAGES: IPackage[] = [
  { name: 'jmp-alpha', version: '1.0', source: 'user' },
  { name: 'typing-extensions', version: '4.12.2', source: 'user' },
  { name: 'marimo', version: '0.25.2', source: 'base' },
  { name: 'numpy', version: '2.1.0', source: 'base' },
  { name: 'typing-inspection', version: '0.4.0', source: 'base' }
];

/** A server that is healthy, has PACKAGES and no jobs. */
export function healthyServer(): FakeServer {
  return new FakeServer()
    .on('GET', 'status', () => healthyStatus())
    .on('GET', 'packages', () => PACKAGES)
    .on('GET', 'jobs', () => []);
}

/** A promise with its resolve and reject at hand. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Wait until `condition` holds, letting timers and promises run. */
export async function until(
  condition: () => boolean,
  what = 'condition',
  timeout = 2000
): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeout) {
      throw new Error(`Timed out waiting for ${what}`);
    }
    await new Promise(resolve => setTimeout(resolve, 1));
  }
}
