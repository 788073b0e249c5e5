/**
 * The package part of the server extension's REST API, typed.
 *
 * Every call goes through one request helper (by default `requestAPI`, which
 * adds Jupyter's token and XSRF header); tests hand in a fake one. Errors
 * are those of the helper: `APIError` for an answer other than 2xx (its
 * message is the server's plain-words `message`), `NetworkError` when no
 * answer came.
 */

import { requestAPI, RequestFn } from '../request';
import { checkStatusWith } from '../status';
import { IMarimoStatus, IStatusCheck } from '../tokens';
import { MarimoEditorAPI } from '../notebooks/running';

/** Where an installed distribution comes from. */
export type PackageSource = 'user' | 'base';

/**
 * How a package of the venv got there: asked for in the sidebar (the
 * manifest records it), a dependency of another package of the venv, or
 * neither (marimo's Install button, or a tool outside the sidebar).
 */
export type PackageOrigin = 'requested' | 'dependency' | 'marimo';

/** One entry of `GET packages`. */
export interface IPackage {
  /** Canonical distribution name (PEP 503), as uninstall expects it. */
  name: string;
  version: string;
  source: PackageSource;
  /** For the venv's packages (absent from older servers: count as requested). */
  origin?: PackageOrigin;
  /** The venv's packages that require this one. */
  required_by?: string[];
}

/** Ask marimo's own API, through its route (the proxy adds the secret). */
export type MarimoRequestFn = (
  endpoint: string,
  init?: RequestInit
) => Promise<unknown>;

export async function requestMarimo(
  endpoint: string,
  init: RequestInit = {}
): Promise<unknown> {
  // marimo's API wants its page's server token: the editor API client knows how.
  const body = init.body ? JSON.parse(String(init.body)) : {};
  return marimoEditorAPI().post(endpoint, body);
}

let editorAPI: MarimoEditorAPI | null = null;
function marimoEditorAPI(): MarimoEditorAPI {
  editorAPI = editorAPI ?? new MarimoEditorAPI();
  return editorAPI;
}

/**
 * `repair` rebuilds a broken venv and reinstalls what the manifest records;
 * `bootstrap` installs the requirements file the server is configured with,
 * in the background at startup.
 */
export type JobKind = 'install' | 'uninstall' | 'repair' | 'bootstrap';

export type JobState =
  'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A job on the venv, as `GET jobs/<id>` sends it. */
export interface IJob {
  id: string;
  kind: JobKind;
  specs: string[];
  state: JobState;
  exit_code: number | null;
  /** Outcome in plain words once finished, e.g. "Installed x: ...". */
  message: string;
  created: number;
  started: number | null;
  finished: number | null;
  /** Log lines from `offset` on. */
  log: string[];
  offset: number;
  /** Offset to ask for next: the number of lines the job has so far. */
  next_offset: number;
}

/** Whether a job has reached one of its final states. */
export function isFinished(job: Pick<IJob, 'state'>): boolean {
  return (
    job.state === 'succeeded' ||
    job.state === 'failed' ||
    job.state === 'cancelled'
  );
}

/** The longest long-poll the server grants, in seconds. */
export const MAX_WAIT_SECONDS = 30;

export class PackagesAPI {
  constructor(
    request: RequestFn = requestAPI,
    marimoRequest: MarimoRequestFn = requestMarimo
  ) {
    this._request = request;
    this._marimoRequest = marimoRequest;
  }

  /**
   * How many notebooks marimo runs (each has a kernel a restart ends), from
   * marimo's `POST api/home/running_notebooks`; null when marimo could not
   * tell (not running, or an older marimo).
   */
  async runningNotebooks(): Promise<number | null> {
    try {
      const body = (await this._marimoRequest('api/home/running_notebooks', {
        method: 'POST',
        body: '{}'
      })) as { files?: unknown };
      return Array.isArray(body?.files) ? body.files.length : null;
    } catch {
      return null;
    }
  }

  /** The server's status, classified (missing, failing, ok); never throws. */
  status(): Promise<IStatusCheck> {
    return checkStatusWith(this._request);
  }

  packages(): Promise<IPackage[]> {
    return this._request<IPackage[]>('packages');
  }

  /** Queue an install; the server answers 202 with the queued job. */
  install(specs: string[]): Promise<IJob> {
    return this._request<IJob>('packages', {
      method: 'POST',
      body: JSON.stringify({ specs })
    });
  }

  /**
   * Queue an install of a requirements file in the Jupyter root; 400 naming
   * the line when the file has options (`-r`, `--index-url`, `-e`, ...).
   */
  installRequirements(path: string): Promise<IJob> {
    return this._request<IJob>('packages', {
      method: 'POST',
      body: JSON.stringify({ requirements_file: path })
    });
  }

  /**
   * Queue a repair: rebuild the venv if it is broken, then reinstall every
   * package the manifest records.
   */
  repair(): Promise<IJob> {
    return this._request<IJob>('repair', { method: 'POST' });
  }

  /** Queue an uninstall of a user package (404 when it is not one). */
  uninstall(name: string): Promise<IJob> {
    return this._request<IJob>(`packages/${encodeURIComponent(name)}`, {
      method: 'DELETE'
    });
  }

  /** Recent jobs, without their logs. */
  jobs(): Promise<IJob[]> {
    return this._request<IJob[]>('jobs');
  }

  /**
   * A job with its log lines from `offset`. With `wait` > 0 the server holds
   * the answer until there are new lines, the job left `seenState` (e.g. a
   * queued job started), the job finished, or `wait` seconds passed.
   */
  job(id: string, offset = 0, wait = 0, seenState?: JobState): Promise<IJob> {
    const seconds = Math.max(0, Math.min(wait, MAX_WAIT_SECONDS));
    let query = `offset=${Math.max(0, offset)}&wait=${seconds}`;
    if (seenState) {
      query += `&state=${encodeURIComponent(seenState)}`;
    }
    return this._request<IJob>(`jobs/${encodeURIComponent(id)}?${query}`);
  }

  /** Cancel a queued or running job (409 when it has already finished). */
  cancel(id: string): Promise<IJob> {
    return this._request<IJob>(`jobs/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  /**
   * Restart marimo and wait until it is ready. 200 with marimo's status; 500
   * with marimo's status (state "failed", error, log tail) when it did not
   * come back; 409 when marimo was not running.
   */
  restart(): Promise<IMarimoStatus> {
    return this._request<IMarimoStatus>('restart', { method: 'POST' });
  }

  private _request: RequestFn;
  private _marimoRequest: MarimoRequestFn;
}
