import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, RequestFn } from './request';
import { IServerStatus, IStatusCheck } from './tokens';

/**
 * What came back from one status request, before interpretation. Kept apart
 * from the request so that the classification is a pure function.
 */
export type StatusOutcome =
  | { type: 'response'; httpStatus: number; body: unknown }
  | { type: 'network-error'; error: string };

/** Longest raw error text shown to the user; HTML error pages can be huge. */
const MAX_DETAIL = 600;

export const MISSING_TITLE = 'The marimo server extension is not enabled';

export const MISSING_MESSAGE =
  'The jupyter-marimo-proxy server extension is not enabled on this Jupyter ' +
  'server, so JupyterLab cannot start marimo. Run ' +
  '`jupyter server extension list` in a terminal and check that ' +
  '`jupyter_marimo_proxy` is listed as enabled. If it is missing, reinstall ' +
  'it with `pip install jupyter-marimo-proxy` (or enable it with ' +
  '`jupyter server extension enable jupyter_marimo_proxy`) and restart ' +
  'Jupyter.';

export const FAILING_TITLE = 'The marimo server extension is not working';

/** Interpret the answer (or the lack of one) to a status request. */
export function classifyStatus(outcome: StatusOutcome): IStatusCheck {
  if (outcome.type === 'network-error') {
    return failing(
      'Could not reach the Jupyter server. Check that it is still running ' +
        'and that your network connection works, then retry.',
      outcome.error,
      null
    );
  }

  const { httpStatus, body } = outcome;

  if (httpStatus === 404) {
    return {
      kind: 'missing',
      title: MISSING_TITLE,
      message: MISSING_MESSAGE,
      detail: null,
      warnings: [],
      httpStatus,
      status: null
    };
  }

  if (httpStatus === 401 || httpStatus === 403) {
    return failing(
      `Jupyter refused the status request (HTTP ${httpStatus}). Your ` +
        'session may have expired: reload the page and log in again.',
      bodyText(body),
      httpStatus
    );
  }

  if (httpStatus < 200 || httpStatus >= 300) {
    return failing(
      `The jupyter-marimo-proxy server extension answered with an error ` +
        `(HTTP ${httpStatus}). The Jupyter server log has the details.`,
      bodyText(body),
      httpStatus
    );
  }

  if (!isServerStatus(body)) {
    // A login page or a proxy's page served with 200 lands here.
    return failing(
      'The Jupyter server answered the status request with something that ' +
        'is not a status report. Reload the page; if this persists, a proxy ' +
        'in front of Jupyter may be rewriting requests.',
      bodyText(body),
      httpStatus
    );
  }

  return {
    kind: 'ok',
    title: 'marimo is available',
    message: '',
    detail: null,
    warnings: statusWarnings(body),
    httpStatus,
    status: body
  };
}

/**
 * Non-fatal problems worth showing above the editor. The editor is loaded
 * anyway: the server repairs the environment and shows its own page when
 * marimo cannot start, which says more than we could here.
 */
export function statusWarnings(status: IServerStatus): string[] {
  const warnings: string[] = [];
  const { venv, marimo } = status;
  // A venv that does not exist yet is normal before the first launch.
  if (venv.exists && !venv.healthy) {
    const problems = venv.problems.length
      ? `: ${venv.problems.join('; ')}`
      : '.';
    warnings.push(
      `The marimo environment at ${venv.path} needs repair${problems}`
    );
  }
  if (marimo.state === 'failed') {
    warnings.push(
      `marimo failed to start${marimo.error ? `: ${marimo.error}` : '.'}`
    );
  }
  return warnings;
}

/** Ask the server for its status; never throws. */
export async function fetchStatus(
  settings?: ServerConnection.ISettings
): Promise<IStatusCheck> {
  return checkStatusWith(endpoint => requestAPI(endpoint, {}, settings));
}

/** Ask for the status through a given request helper; never throws. */
export async function checkStatusWith(
  request: RequestFn
): Promise<IStatusCheck> {
  return classifyStatus(await requestStatus(request));
}

async function requestStatus(request: RequestFn): Promise<StatusOutcome> {
  try {
    const body = await request<unknown>('status');
    return { type: 'response', httpStatus: 200, body };
  } catch (error) {
    if (error instanceof ServerConnection.ResponseError) {
      return {
        type: 'response',
        httpStatus: error.response.status,
        body: error.message
      };
    }
    return { type: 'network-error', error: errorText(error) };
  }
}

function failing(
  message: string,
  detail: string | null,
  httpStatus: number | null
): IStatusCheck {
  return {
    kind: 'failing',
    title: FAILING_TITLE,
    message,
    detail: detail ? truncate(detail) : null,
    warnings: [],
    httpStatus,
    status: null
  };
}

function isServerStatus(body: unknown): body is IServerStatus {
  if (!body || typeof body !== 'object') {
    return false;
  }
  const { venv, marimo } = body as Partial<IServerStatus>;
  return (
    !!venv &&
    typeof venv === 'object' &&
    Array.isArray(venv.problems) &&
    !!marimo &&
    typeof marimo === 'object' &&
    typeof marimo.state === 'string'
  );
}

function bodyText(body: unknown): string | null {
  if (body === null || body === undefined || body === '') {
    return null;
  }
  if (typeof body === 'string') {
    return body;
  }
  try {
    return JSON.stringify(body);
  } catch {
    return String(body);
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.message || error.name;
  }
  return String(error);
}

function truncate(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_DETAIL
    ? `${trimmed.slice(0, MAX_DETAIL)}…`
    : trimmed;
}
