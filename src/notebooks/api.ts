/**
 * The side-by-side part of the server extension's REST API, typed: convert
 * and export between `.ipynb` and marimo, create a marimo notebook, and
 * where marimo shows a notebook.
 *
 * Paths are Jupyter contents paths (relative to the root). Errors are the
 * request helper's: `APIError` for an answer other than 2xx (with the
 * server's plain-words message; a 409 also carries the `target` that
 * exists), `NetworkError` when no answer came.
 */
import { requestAPI, RequestFn } from '../request';

/** How marimo shows a notebook: its editor, or the app view (code hidden). */
export type NotebookMode = 'edit' | 'app';

/** A file the server wrote. */
export interface IWritten {
  path: string;
}

/**
 * The body of a 409: the file that would have been overwritten, and a free
 * name next to it (`x-Copy1.marimo.py`) for saving under another name.
 */
export interface IConflict {
  message: string;
  target: string;
  suggestion: string | null;
}

export class NotebooksAPI {
  constructor(request: RequestFn = requestAPI) {
    this._request = request;
  }

  /**
   * `x.ipynb` -> `x.marimo.py` next to it, or to `target` (a contents path
   * ending in `.py`); 409 if it exists, unless overwrite.
   */
  convert(path: string, overwrite = false, target?: string): Promise<IWritten> {
    return this._post('convert', withTarget({ path, overwrite }, target));
  }

  /**
   * `x.marimo.py` -> `x.ipynb` next to it, or to `target` (a contents path
   * ending in `.ipynb`); 409 if it exists, unless overwrite.
   */
  exportToIpynb(
    path: string,
    overwrite = false,
    target?: string
  ): Promise<IWritten> {
    return this._post('export', withTarget({ path, overwrite }, target));
  }

  /** Create `untitled.marimo.py` (numbered if taken) in a folder (`''`: root). */
  create(directory: string): Promise<IWritten> {
    return this._post('new', { directory });
  }

  /**
   * The URL (an absolute path, base URL included) of a notebook in the
   * running marimo; 400 when the file is not a marimo notebook.
   */
  async notebookUrl(
    path: string,
    mode: NotebookMode = 'edit'
  ): Promise<string> {
    const query = new URLSearchParams({ path, mode }).toString();
    const answer = await this._request<{ url: string }>(
      `notebook-url?${query}`
    );
    return answer.url;
  }

  private _post(endpoint: string, body: unknown): Promise<IWritten> {
    return this._request<IWritten>(endpoint, {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }

  private _request: RequestFn;
}

function withTarget<T extends object>(
  body: T,
  target: string | undefined
): T & { target?: string } {
  return target === undefined ? body : { ...body, target };
}

/** The conflict a 409 answer describes, if the body is one. */
export function asConflict(body: unknown): IConflict | null {
  if (
    body &&
    typeof body === 'object' &&
    typeof (body as IConflict).target === 'string'
  ) {
    const { message, target, suggestion } = body as IConflict;
    return {
      message: typeof message === 'string' ? message : '',
      target,
      suggestion: typeof suggestion === 'string' ? suggestion : null
    };
  }
  return null;
}
