/**
 * JupyterLab notifications for what the packages model reports: finished
 * jobs, refused actions and restarts. Kept apart from the model (which
 * knows no UI) and from the sidebar (notifications matter most when the
 * sidebar is closed).
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { IJob } from './api';
import { jobDone, jobNoun, jobWords } from './jobs';
import {
  ChangeKind,
  IActionFailure,
  IRestartOutcome,
  PackagesModel
} from './model';

/** How long a success stays on screen (ms). */
export const SUCCESS_AUTOCLOSE = 8000;

/**
 * How long a failure stays (ms): long enough to read, never for good (they
 * piled up over marimo's own buttons); the sidebar keeps the outcome.
 */
export const FAILURE_AUTOCLOSE = 20000;

export interface INotifyOptions {
  /** Bring the sidebar forward (offered as "Show log" on failures). */
  showSidebar?: () => void;
  /**
   * Whether the sidebar is on screen: it then shows the outcome itself,
   * and a notification would say it a second time.
   */
  sidebarVisible?: () => boolean;
}

/** Show notifications for the model's events until disposed. */
export function connectNotifications(
  model: PackagesModel,
  options: INotifyOptions = {}
): IDisposable {
  let restartId: string | null = null;
  // One notification per kind of news: a new one replaces the last.
  const shown = new Map<string, string>();
  const visible = (): boolean => options.sidebarVisible?.() ?? false;
  const show = (
    key: string,
    message: string,
    type: Notification.TypeOptions,
    actions: Notification.IAction[] = []
  ): void => {
    const previous = shown.get(key);
    if (previous) {
      Notification.dismiss(previous);
    }
    const autoClose =
      type === 'error' || type === 'warning'
        ? FAILURE_AUTOCLOSE
        : SUCCESS_AUTOCLOSE;
    shown.set(key, Notification.emit(message, type, { autoClose, actions }));
  };

  const showLog: Notification.IAction[] = options.showSidebar
    ? [
        {
          label: 'Show log',
          caption: 'Open the marimo packages sidebar',
          callback: () => options.showSidebar!()
        }
      ]
    : [];

  const onFinished = (_: PackagesModel, job: IJob): void => {
    if (visible()) {
      return;
    }
    const message = job.message || defaultMessage(job);
    if (job.state === 'succeeded') {
      show('job', message, 'success');
    } else if (job.state === 'cancelled') {
      show('job', message, 'info');
    } else {
      show('job', message, 'error', showLog);
    }
  };

  const onFailed = (_: PackagesModel, failure: IActionFailure): void => {
    // A refused spec is shown under the field the user typed it in.
    if (visible() && failure.action !== 'cancel') {
      return;
    }
    show('action', failure.message, 'error');
  };

  const onChanged = (_: PackagesModel, kind: ChangeKind): void => {
    if (
      kind === 'restart' &&
      model.restarting &&
      restartId === null &&
      !visible()
    ) {
      restartId = Notification.emit('Restarting marimo…', 'in-progress', {
        autoClose: false
      });
    }
  };

  const onRestarted = (_: PackagesModel, outcome: IRestartOutcome): void => {
    // The "Restarting…" notification ends with the restart, whatever else.
    if (restartId !== null) {
      Notification.dismiss(restartId);
      restartId = null;
    }
    if (visible()) {
      return;
    }
    show(
      'restart',
      outcome.message,
      outcome.ok ? 'success' : 'error',
      outcome.logTail ? [logAction(outcome.logTail)] : showLog
    );
  };

  model.jobFinished.connect(onFinished);
  model.actionFailed.connect(onFailed);
  model.changed.connect(onChanged);
  model.restartFinished.connect(onRestarted);

  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      if (disposed) {
        return;
      }
      disposed = true;
      model.jobFinished.disconnect(onFinished);
      model.actionFailed.disconnect(onFailed);
      model.changed.disconnect(onChanged);
      model.restartFinished.disconnect(onRestarted);
    }
  };
}

function defaultMessage(job: IJob): string {
  switch (job.state) {
    case 'succeeded':
      return `${jobDone(job)}.`;
    case 'cancelled':
      return `Cancelled ${jobNoun(job)}.`;
    default: {
      const { verb, object } = jobWords(job);
      return `Could not ${verb} ${object}.`;
    }
  }
}

/** A "Show log" action with marimo's log tail in a dialog. */
function logAction(logTail: string): Notification.IAction {
  return {
    label: 'Show log',
    caption: "The last lines of marimo's log",
    callback: () => {
      const body = new Widget({ node: document.createElement('pre') });
      body.addClass('jp-MarimoPackages-dialogLog');
      body.node.textContent = logTail;
      void showDialog({
        title: "marimo's log",
        body,
        buttons: [Dialog.okButton({ label: 'Close' })]
      });
    }
  };
}
