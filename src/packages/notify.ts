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

/** How long a success stays on screen (ms); failures stay until closed. */
export const SUCCESS_AUTOCLOSE = 8000;

export interface INotifyOptions {
  /** Bring the sidebar forward (offered as "Show log" on failures). */
  showSidebar?: () => void;
}

/** Show notifications for the model's events until disposed. */
export function connectNotifications(
  model: PackagesModel,
  options: INotifyOptions = {}
): IDisposable {
  let restartId: string | null = null;

  const showLog: Notification.IAction[] = options.showSidebar
    ? [
        {
          label: 'Show log',
          caption: 'Open the Install package sidebar',
          callback: () => options.showSidebar!()
        }
      ]
    : [];

  const onFinished = (_: PackagesModel, job: IJob): void => {
    const message = job.message || defaultMessage(job);
    if (job.state === 'succeeded') {
      Notification.success(message, { autoClose: SUCCESS_AUTOCLOSE });
    } else if (job.state === 'cancelled') {
      Notification.info(message, { autoClose: SUCCESS_AUTOCLOSE });
    } else {
      Notification.error(message, { autoClose: false, actions: showLog });
    }
  };

  const onFailed = (_: PackagesModel, failure: IActionFailure): void => {
    Notification.error(failure.message, { autoClose: false });
  };

  const onChanged = (_: PackagesModel, kind: ChangeKind): void => {
    if (kind === 'restart' && model.restarting && restartId === null) {
      restartId = Notification.emit('Restarting marimo…', 'in-progress', {
        autoClose: false
      });
    }
  };

  const onRestarted = (_: PackagesModel, outcome: IRestartOutcome): void => {
    const update: Notification.IUpdate<never> = {
      id: restartId ?? '',
      message: outcome.message,
      type: outcome.ok ? 'success' : 'error',
      autoClose: outcome.ok ? SUCCESS_AUTOCLOSE : false,
      actions: outcome.logTail ? [logAction(outcome.logTail)] : []
    };
    // Update the "Restarting…" notification in place; emit a new one if
    // it is gone (dismissed by the user, or never shown).
    if (restartId === null || !Notification.update(update)) {
      Notification.emit(update.message!, update.type, {
        autoClose: update.autoClose,
        actions: update.actions
      });
    }
    restartId = null;
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
