import { ServerConnection } from '@jupyterlab/services';

import { apiUrl } from './urls';

/**
 * Call the server extension's REST API.
 *
 * Going through `ServerConnection` adds Jupyter's token and XSRF header, so
 * the authenticated handlers accept the request on every deployment (token
 * login, JupyterHub cookies).
 *
 * @throws ServerConnection.NetworkError when no answer arrived.
 * @throws ServerConnection.ResponseError on a non-2xx answer; its message is
 *   the server's JSON `message` when there is one.
 */
export async function requestAPI<T>(
  endpoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = apiUrl(settings.baseUrl, endpoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (error instanceof ServerConnection.NetworkError) {
      throw error;
    }
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  // Error pages from Jupyter or a proxy in front of it are often HTML, so a
  // body that is not JSON is kept as text rather than treated as a failure.
  let data: unknown = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }

  if (!response.ok) {
    throw new APIError(response, errorMessage(data), data);
  }
  return data as T;
}

/**
 * A non-2xx answer of the REST API, with its parsed body: some error
 * answers carry more than a message (a failed restart sends marimo's state
 * and log tail).
 */
export class APIError extends ServerConnection.ResponseError {
  constructor(response: Response, message: string, body: unknown) {
    super(response, message);
    this.body = body;
  }

  /** The answer's JSON, or its text when it was not JSON. */
  readonly body: unknown;
}

/** The REST helper's signature, so that callers can be given a fake one. */
export type RequestFn = <T>(endpoint: string, init?: RequestInit) => Promise<T>;

function errorMessage(data: unknown): string {
  if (data && typeof data === 'object' && 'message' in data) {
    const message = (data as { message: unknown }).message;
    if (typeof message === 'string' && message) {
      return message;
    }
  }
  return typeof data === 'string' ? data : '';
}
