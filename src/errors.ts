/**
 * Turning what the REST helper throws into words for the user. Shared by
 * the packages model and the notebook commands, so that both say the same
 * thing about the same failure.
 */
import { ServerConnection } from '@jupyterlab/services';

/** The HTTP status of a non-2xx answer, or null when no answer came. */
export function httpStatus(error: unknown): number | null {
  return error instanceof ServerConnection.ResponseError
    ? error.response.status
    : null;
}

/**
 * The server's plain-words `message` for an answer other than 2xx, or a
 * sentence about the network when no answer came.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof ServerConnection.ResponseError) {
    return error.message || `HTTP ${error.response.status}`;
  }
  if (error instanceof ServerConnection.NetworkError) {
    return 'the Jupyter server could not be reached';
  }
  if (error instanceof Error) {
    return error.message || error.name;
  }
  return String(error);
}
