/**
 * Identifiers shared by the plugin, and the shape of the server's status
 * report. The ids are a contract with the browser tests and with saved
 * layouts (tab restore), so change them only with care.
 */

export const PLUGIN_ID = 'jupyter-marimo-proxy:plugin';

/** REST namespace of the server extension, below Jupyter's base URL. */
export const API_NAMESPACE = 'jupyter-marimo-proxy';

/** Named route that jupyter-server-proxy serves marimo under. */
export const MARIMO_ROUTE = 'marimo';

/** Namespace of the widget tracker; also the key of saved tab state. */
export const TRACKER_NAMESPACE = 'jupyter-marimo-proxy';

/** Id of the single marimo tab in the main area. */
export const MARIMO_WIDGET_ID = 'jupyter-marimo-proxy-marimo';

/** Namespace of the tracker of tabs that run a notebook as an app. */
export const APP_TRACKER_NAMESPACE = 'jupyter-marimo-proxy-app';

/** Id of the "Install package" panel in the left sidebar. */
export const PACKAGES_WIDGET_ID = 'jupyter-marimo-proxy-packages';

export namespace CommandIDs {
  export const open = 'jupyter-marimo-proxy:open';
  /** Open (or bring forward) the "Install package" sidebar. */
  export const installPackage = 'jupyter-marimo-proxy:install-package';
  export const restart = 'jupyter-marimo-proxy:restart';
  /** Repair the marimo venv (rebuild if broken, reinstall the manifest). */
  export const repair = 'jupyter-marimo-proxy:repair';
  /** Open a marimo notebook (a `.py` file) in a marimo tab. */
  export const openNotebook = 'jupyter-marimo-proxy:open-notebook';
  /** Create `untitled.marimo.py` in a folder and open it. */
  export const newNotebook = 'jupyter-marimo-proxy:new-notebook';
  /** `x.ipynb` -> `x.marimo.py`. */
  export const convertToMarimo = 'jupyter-marimo-proxy:convert-to-marimo';
  /** `x.marimo.py` -> `x.ipynb`. */
  export const exportToIpynb = 'jupyter-marimo-proxy:export-to-ipynb';
  /** Show a marimo notebook as an app in a tab of its own. */
  export const runAsApp = 'jupyter-marimo-proxy:run-as-app';
  /** Install a requirements file into the marimo venv. */
  export const installRequirements =
    'jupyter-marimo-proxy:install-requirements';
}

/**
 * Arguments of the commands that act on a file or folder.
 *
 * - `path`: the contents path to act on; without it the command acts on
 *   the current tab's file or the file browser's selection.
 * - `origin: 'browser'`: invoked from the file browser's context menu, so
 *   the selection is what the user right-clicked.
 * - `directory` (new notebook only): the folder to create it in.
 * - `restore` (run as app only): reopening a saved layout.
 */
export interface IFileCommandArgs {
  path?: string;
  directory?: string;
  origin?: 'browser';
  restore?: boolean;
}

/**
 * Arguments of the open command.
 *
 * `target: 'tab'` forces a JupyterLab tab even when the user prefers a new
 * browser tab: tab restore passes it, because restoring a layout must never
 * pop up browser windows.
 */
export interface IOpenArgs {
  isLauncher?: boolean;
  isPalette?: boolean;
  target?: 'tab';
}

/** `idle`: stopped by the idle timeout; the next open starts it again. */
export type MarimoState =
  'stopped' | 'starting' | 'running' | 'idle' | 'failed';

export interface IVenvStatus {
  path: string;
  python_version: string | null;
  marimo_version: string | null;
  exists: boolean;
  healthy: boolean;
  problems: string[];
}

export interface IMarimoStatus {
  version: string | null;
  running: boolean;
  state: MarimoState;
  port: number | null;
  url: string;
  error: string | null;
  log_tail: string | null;
}

export interface IInstallerStatus {
  name: 'uv' | 'pip';
  path: string | null;
  version: string | null;
}

/** Body of `GET {baseUrl}jupyter-marimo-proxy/status`. */
export interface IServerStatus {
  version: string;
  state_dir: string;
  root_dir: string;
  venv: IVenvStatus;
  marimo: IMarimoStatus;
  installer: IInstallerStatus;
}

/**
 * What the frontend concluded from one status request.
 *
 * - `ok`: the server extension answered; marimo can be loaded (warnings
 *   may still describe a degraded environment).
 * - `missing`: the server extension is not installed or not enabled.
 * - `failing`: the extension is there but errored or could not be reached.
 */
export type StatusKind = 'ok' | 'missing' | 'failing';

export interface IStatusCheck {
  kind: StatusKind;
  /** Short headline for the user. */
  title: string;
  /** Explanation for the user; text between backticks is a command. */
  message: string;
  /** Raw error text from the server or the network, if any. */
  detail: string | null;
  /** Non-fatal problems to show next to a working editor. */
  warnings: string[];
  /** HTTP status of the answer, or null when no answer arrived. */
  httpStatus: number | null;
  /** The parsed report, when the server sent one. */
  status: IServerStatus | null;
}
