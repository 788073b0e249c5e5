/**
 * What the side-by-side commands do, apart from how they are wired into
 * JupyterLab: convert and export (asking before overwriting), create, open
 * in marimo, run as an app. Each action tells the user how it went with a
 * notification; errors carry the server's (and so marimo's) own message.
 *
 * The JupyterLab parts an action needs (dialogs, opening tabs, the file
 * browser) come in through `INotebookHost`, so tests can stand in for them.
 */
import {
  Dialog,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { errorMessage, httpStatus } from '../errors';
import { APIError } from '../request';
import { asConflict, IConflict, IWritten, NotebooksAPI } from './api';
import { basename, dirname, stem } from './paths';

/** How long a success stays on screen (ms); failures stay until closed. */
export const SUCCESS_AUTOCLOSE = 10000;

/** Longest message a toast shows whole (JupyterLab cuts at 140). */
const TOAST_LENGTH = 140;

/**
 * How long a request may take before a "Converting…" notification shows
 * (ms): marimo's own commands take seconds to start, a 409 comes at once.
 */
export const PROGRESS_DELAY = 400;

/**
 * What to do when the file a conversion would write exists: replace it,
 * write to another file (`target`, a contents path), or leave it be.
 */
export type OverwriteAnswer =
  | { action: 'replace' }
  | { action: 'rename'; target: string }
  | { action: 'cancel' };

export interface INotebookHost {
  /**
   * Ask what to do about `conflict.target` (a contents path), which what
   * `source` becomes would replace.
   */
  confirmOverwrite(
    conflict: IConflict,
    source: string
  ): Promise<OverwriteAnswer>;
  /** Open a marimo notebook in a marimo tab (its editor). */
  openInMarimo(path: string): Promise<unknown>;
  /** Open a file the way JupyterLab would on a double-click. */
  openDocument(path: string): Promise<unknown>;
  /** Show a notebook as an app, at `url`, in a tab of its own. */
  openApp(path: string, url: string): unknown;
  /** Show what the server wrote in the file browser. */
  refreshFileBrowser(): Promise<void>;
  /** Called with what `openInMarimo` opened for a new notebook. */
  afterCreate?(opened: unknown): void;
}

export class NotebookActions {
  constructor(api: NotebooksAPI, host: INotebookHost) {
    this._api = api;
    this._host = host;
  }

  /**
   * `x.ipynb` -> `x.marimo.py`, asking first if that exists; then offers to
   * open it in marimo. Resolves with the written path, or null when the
   * user declined or it failed (said in a notification).
   */
  async convert(path: string): Promise<string | null> {
    const name = basename(path);
    try {
      const written = await writeWithConfirm(
        (overwrite, target) =>
          withProgress(
            `Converting ${name} to marimo…`,
            this._api.convert(path, overwrite, target)
          ),
        conflict => this._host.confirmOverwrite(conflict, path)
      );
      if (!written) {
        return null;
      }
      await this._host.refreshFileBrowser();
      Notification.success(`Converted ${name} to ${basename(written.path)}.`, {
        autoClose: SUCCESS_AUTOCLOSE,
        actions: [
          {
            label: 'Open in marimo',
            caption: `Open ${written.path} in marimo`,
            callback: () => void this._host.openInMarimo(written.path)
          }
        ]
      });
      return written.path;
    } catch (error) {
      notifyError(`Could not convert ${name} to marimo`, error);
      return null;
    }
  }

  /**
   * `x.marimo.py` -> `x.ipynb`, asking first if that exists; then offers to
   * open it in JupyterLab.
   */
  async exportToIpynb(path: string): Promise<string | null> {
    const name = basename(path);
    try {
      const written = await writeWithConfirm(
        (overwrite, target) =>
          withProgress(
            `Exporting ${name} to a Jupyter notebook…`,
            this._api.exportToIpynb(path, overwrite, target)
          ),
        conflict => this._host.confirmOverwrite(conflict, path)
      );
      if (!written) {
        return null;
      }
      await this._host.refreshFileBrowser();
      Notification.success(`Exported ${name} to ${basename(written.path)}.`, {
        autoClose: SUCCESS_AUTOCLOSE,
        actions: [
          {
            label: 'Open',
            caption: `Open ${written.path}`,
            callback: () => void this._host.openDocument(written.path)
          }
        ]
      });
      return written.path;
    } catch (error) {
      notifyError(`Could not export ${name} to a Jupyter notebook`, error);
      return null;
    }
  }

  /** Create `untitled.marimo.py` (numbered if taken) and open it in marimo. */
  async create(directory: string): Promise<string | null> {
    let written: IWritten;
    try {
      written = await this._api.create(directory);
    } catch (error) {
      notifyError('Could not create a marimo notebook', error);
      return null;
    }
    await this._host.refreshFileBrowser();
    const opened = await this._host.openInMarimo(written.path);
    this._host.afterCreate?.(opened);
    return written.path;
  }

  /**
   * Open a `.py` file in marimo once the server confirms it is a marimo
   * notebook; otherwise say why (the server's message).
   */
  async open(path: string): Promise<boolean> {
    try {
      await this._api.notebookUrl(path, 'edit');
    } catch (error) {
      notifyError(`Could not open ${basename(path)} in marimo`, error);
      return false;
    }
    await this._host.openInMarimo(path);
    return true;
  }

  /** Show a marimo notebook as an app (code hidden, outputs live). */
  async runAsApp(path: string): Promise<boolean> {
    let url: string;
    try {
      url = await this._api.notebookUrl(path, 'app');
    } catch (error) {
      notifyError(`Could not run ${basename(path)} as an app`, error);
      return false;
    }
    this._host.openApp(path, url);
    return true;
  }

  private _api: NotebooksAPI;
  private _host: INotebookHost;
}

/**
 * Write with `overwrite: false` first; on a 409 ask `confirm` about the
 * conflict the server described: write again with `overwrite: true` if the
 * user says replace, or to the other name they chose (asking again if that
 * one exists too). Resolves with null when the user left the file be; other
 * errors (a name the server refuses among them) are thrown.
 */
export async function writeWithConfirm(
  write: (overwrite: boolean, target?: string) => Promise<IWritten>,
  confirm: (conflict: IConflict) => Promise<OverwriteAnswer>
): Promise<IWritten | null> {
  // undefined: where the server puts it by default, next to the source.
  let target: string | undefined = undefined;
  let overwrite = false;
  for (;;) {
    try {
      return await write(overwrite, target);
    } catch (error) {
      const conflict =
        !overwrite && httpStatus(error) === 409 && error instanceof APIError
          ? asConflict(error.body)
          : null;
      if (!conflict) {
        throw error;
      }
      const answer = await confirm(conflict);
      if (answer.action === 'cancel') {
        return null;
      }
      if (answer.action === 'replace') {
        overwrite = true;
      } else {
        target = answer.target;
      }
    }
  }
}

/**
 * Say that something is under way if it takes longer than
 * `PROGRESS_DELAY`; the notification goes when it settles (the outcome has
 * its own).
 */
export async function withProgress<T>(
  message: string,
  work: Promise<T>,
  delay = PROGRESS_DELAY
): Promise<T> {
  let id: string | null = null;
  const timer = setTimeout(() => {
    id = Notification.emit(message, 'in-progress', { autoClose: false });
  }, delay);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    if (id !== null) {
      Notification.dismiss(id);
    }
  }
}

/** The label of the overwrite dialog's button that asks for another name. */
export const SAVE_AS_LABEL = 'Save as…';

/**
 * JupyterLab's dialog asking before a conversion replaces a file: Cancel
 * (focused: the safe choice), "Save as…" (another name, asked next, in
 * JupyterLab's input dialog) or Replace.
 */
export async function confirmOverwrite(
  conflict: IConflict,
  source: string
): Promise<OverwriteAnswer> {
  const target = basename(conflict.target);
  const result = await showDialog({
    title: `Replace ${target}?`,
    body:
      `${target} already exists next to ${basename(source)}. ` +
      'Replace it with the converted notebook (its current content is lost), ' +
      'or save the converted notebook under another name?',
    buttons: [
      Dialog.cancelButton(),
      Dialog.createButton({
        label: SAVE_AS_LABEL,
        caption: `Keep ${target} and choose another name`
      }),
      Dialog.warnButton({ label: 'Replace' })
    ],
    defaultButton: 0
  });
  if (result.button.label === SAVE_AS_LABEL) {
    const name = await askOtherName(conflict);
    return name === null
      ? { action: 'cancel' }
      : { action: 'rename', target: name };
  }
  return result.button.accept ? { action: 'replace' } : { action: 'cancel' };
}

/**
 * Ask for another name, prefilled with the server's free one
 * (`x-Copy1.marimo.py`) with its stem selected; resolves with a contents
 * path in the target's folder (a name with `/` goes below it), or null.
 */
export async function askOtherName(
  conflict: IConflict
): Promise<string | null> {
  const suggested = basename(conflict.suggestion ?? conflict.target);
  const result = await InputDialog.getText({
    title: 'Save under another name',
    label: `New name (next to ${basename(conflict.target)})`,
    text: suggested,
    selectionRange: stem(suggested).length,
    okLabel: 'Save',
    required: true
  });
  const name = result.value?.trim();
  if (!result.button.accept || !name) {
    return null;
  }
  const folder = dirname(conflict.target);
  return folder ? `${folder}/${name}` : name;
}

/**
 * An error in a sentence short enough for a toast: `prefix: reason`. A
 * Python traceback (marimo's output when it fails) is cut down to its last
 * line, the exception; the whole text stays one click away.
 */
export function errorNotice(
  prefix: string,
  error: unknown
): { message: string; details: string | null } {
  const full = errorMessage(error).trim();
  let reason = full;
  const traceback = full.indexOf('Traceback (most recent call last)');
  if (traceback >= 0) {
    const lines = full
      .slice(traceback)
      .split('\n')
      .map(line => line.trim())
      .filter(Boolean);
    const before = full.slice(0, traceback).trim();
    reason = [before, lines[lines.length - 1]].filter(Boolean).join(' ');
  } else if (full.includes('\n')) {
    reason = full.split('\n')[0].trim();
  }
  const message = `${prefix}: ${reason}`;
  const whole = message.length > TOAST_LENGTH || reason !== full;
  return { message, details: whole ? full : null };
}

/** An error notification that stays until closed, with the whole text. */
export function notifyError(prefix: string, error: unknown): string {
  const { message, details } = errorNotice(prefix, error);
  const actions: Notification.IAction[] = details
    ? [
        {
          label: 'Show details',
          caption: 'The whole message',
          callback: () => showDetails(prefix, details)
        }
      ]
    : [];
  return Notification.error(message, { autoClose: false, actions });
}

function showDetails(title: string, text: string): void {
  const body = new Widget({ node: document.createElement('pre') });
  body.addClass('jp-MarimoProxy-details');
  body.node.textContent = text;
  void showDialog({
    title,
    body,
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}
