/**
 * A "marimo" section in JupyterLab's Running sidebar: the notebooks marimo's
 * editor has sessions (kernels) for, from marimo's own API
 * (`api/home/running_notebooks`, shut down with `api/home/shutdown_session`),
 * and the notebooks open as apps (each app tab has a kernel of its own,
 * which ends when its tab closes).
 *
 * marimo's API wants its page's server token (skew protection) in a
 * `Marimo-Server-Token` header: read from marimo's home page, again after a
 * restart. marimo is asked only while it runs, so that opening the sidebar
 * never starts it.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { IRunningSessions } from '@jupyterlab/running';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';

import { RequestFn, requestAPI } from '../request';
import { MARIMO_ROUTE } from '../tokens';
import { relativeToRoot } from './frame';
import { Instances } from './recovery';

/** One notebook marimo's editor runs. */
export interface IRunningNotebook {
  name: string;
  /** marimo's path (absolute, or relative to the root). */
  path: string;
  sessionId: string;
}

/** An app open in a tab. */
export interface IRunningApp {
  path: string;
  open(): void;
  close(): void;
}

export interface IRunningHost {
  icon: LabIcon;
  /** Open a notebook (contents path) in its marimo tab. */
  openNotebook(path: string): void;
  /** The app tabs open now. */
  apps(): IRunningApp[];
  /** The Jupyter root, to make marimo's absolute paths contents paths. */
  rootDir(): string | null;
}

/** Calls to marimo's editor API through the proxy. */
export class MarimoEditorAPI {
  constructor(
    settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this._settings = settings;
  }

  async runningNotebooks(): Promise<IRunningNotebook[]> {
    const answer = await this.post<{ files?: unknown[] }>(
      'api/home/running_notebooks',
      {}
    );
    const files = Array.isArray(answer.files) ? answer.files : [];
    return files
      .map(file => file as Record<string, unknown>)
      .filter(file => typeof file.sessionId === 'string')
      .map(file => ({
        name: String(file.name ?? file.path ?? ''),
        path: String(file.path ?? ''),
        sessionId: String(file.sessionId)
      }));
  }

  async shutdown(sessionId: string): Promise<void> {
    await this.post('api/home/shutdown_session', { sessionId });
  }

  /** POST to marimo's API with its server token (skew protection), fetched again after a restart. */
  async post<T>(endpoint: string, body: unknown): Promise<T> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await this._serverToken(attempt > 0);
      const response = await ServerConnection.makeRequest(
        this._url(endpoint),
        {
          method: 'POST',
          body: JSON.stringify(body),
          headers: {
            'Content-Type': 'application/json',
            ...(token ? { 'Marimo-Server-Token': token } : {})
          }
        },
        this._settings
      );
      if (response.status === 401 && attempt === 0) {
        continue; // a new start of marimo: a new server token
      }
      if (!response.ok) {
        throw new ServerConnection.ResponseError(response);
      }
      return (await response.json()) as T;
    }
    throw new Error('marimo refused the request');
  }

  private async _serverToken(fresh: boolean): Promise<string | null> {
    if (this._token !== null && !fresh) {
      return this._token;
    }
    const response = await ServerConnection.makeRequest(
      this._url(''),
      { method: 'GET' },
      this._settings
    );
    const html = await response.text();
    const match = /<marimo-server-token\s+data-token="([^"]*)"/.exec(html);
    this._token = match ? match[1] : null;
    return this._token;
  }

  private _url(endpoint: string): string {
    return URLExt.join(this._settings.baseUrl, MARIMO_ROUTE, endpoint);
  }

  private _settings: ServerConnection.ISettings;
  private _token: string | null = null;
}

export class MarimoRunningManager implements IRunningSessions.IManager {
  constructor(
    host: IRunningHost,
    api = new MarimoEditorAPI(),
    request: RequestFn = requestAPI
  ) {
    this._host = host;
    this._api = api;
    this._request = request;
  }

  readonly name = 'marimo';
  readonly shutdownAllConfirmationText =
    'Shut down all marimo notebooks and close all marimo apps?';
  readonly shutdownLabel = 'Shut Down';

  get runningChanged(): ISignal<this, void> {
    return this._changed;
  }

  running(): IRunningSessions.IRunningItem[] {
    const icon = this._host.icon;
    const notebooks = this._notebooks.map(notebook => {
      const path = relativeToRoot(notebook.path, this._host.rootDir());
      return {
        className: 'jp-MarimoProxy-runningNotebook',
        icon: () => icon,
        label: () => notebook.name,
        labelTitle: () => `${path ?? notebook.path} (marimo editor)`,
        detail: () => 'editor',
        open: () => {
          if (path !== null) {
            this._host.openNotebook(path);
          }
        },
        shutdown: () => void this._shutdown(notebook.path)
      };
    });
    const apps = this._host.apps().map(app => ({
      className: 'jp-MarimoProxy-runningApp',
      icon: () => icon,
      label: () => app.path.split('/').pop() ?? app.path,
      labelTitle: () =>
        `${app.path} (app: its kernel ends when the tab closes)`,
      detail: () => 'app',
      open: () => app.open(),
      shutdown: () => {
        app.close();
        this._changed.emit();
      }
    }));
    return [...notebooks, ...apps];
  }

  /** Ask marimo (only if it runs) which notebooks it has sessions for. */
  async refreshRunning(): Promise<void> {
    let instances: Instances | null = null;
    try {
      instances = await this._request<Instances>('instances');
    } catch {
      instances = null;
    }
    let notebooks: IRunningNotebook[] = [];
    if (instances?.[MARIMO_ROUTE]?.state === 'running') {
      try {
        notebooks = await this._api.runningNotebooks();
      } catch (error) {
        console.warn(
          'jupyter-marimo-proxy: could not list marimo sessions',
          error
        );
      }
    }
    this._notebooks = notebooks;
    this._changed.emit();
  }

  async shutdownAll(): Promise<void> {
    const current = await this._api.runningNotebooks().catch(() => []);
    await Promise.all(
      current.map(notebook => this._api.shutdown(notebook.sessionId))
    );
    this._host.apps().forEach(app => app.close());
    await this.refreshRunning();
  }

  /**
   * End marimo's session(s) of a file. Asked afresh: reopening a notebook
   * gives it a new session id, so the one listed may be out of date.
   */
  private async _shutdown(path: string): Promise<void> {
    try {
      const current = await this._api.runningNotebooks();
      await Promise.all(
        current
          .filter(notebook => notebook.path === path)
          .map(notebook => this._api.shutdown(notebook.sessionId))
      );
    } finally {
      await this.refreshRunning();
    }
  }

  private _host: IRunningHost;
  private _api: MarimoEditorAPI;
  private _request: RequestFn;
  private _notebooks: IRunningNotebook[] = [];
  private _changed = new Signal<this, void>(this);
}
