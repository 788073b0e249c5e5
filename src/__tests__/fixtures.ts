import { IServerStatus } from '../tokens';

/** A status report as a healthy server sends it. */
export function healthyStatus(): IServerStatus {
  return {
    version: '0.1.0',
    state_dir: '/home/alice/.local/state/jupyter-marimo-proxy',
    root_dir: '/home/alice/work',
    venv: {
      path: '/home/alice/.local/state/jupyter-marimo-proxy/venv',
      python_version: '3.11.2',
      marimo_version: '0.9.0',
      exists: true,
      healthy: true,
      problems: []
    },
    marimo: {
      version: '0.9.0',
      running: true,
      state: 'running',
      port: 41234,
      url: '/marimo/',
      error: null,
      log_tail: null
    },
    installer: { name: 'uv', path: '/usr/bin/uv', version: '0.4.0' }
  };
}

/** A fetch answer with a JSON or text body. */
export function jsonResponse(status: number, body: unknown): Response {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Response(text, {
    status,
    headers: {
      'Content-Type':
        typeof body === 'string' ? 'text/html' : 'application/json'
    }
  });
}
