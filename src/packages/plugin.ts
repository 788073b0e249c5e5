/**
 * The "Install package" sidebar plugin: the panel in the left area, its
 * palette commands, notifications, and reloading the marimo tab after a
 * restart.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { packageInstallIcon } from '../icons';
import { MarimoPanel } from '../panel';
import { CommandIDs, MARIMO_WIDGET_ID, PACKAGES_WIDGET_ID } from '../tokens';
import { PackagesModel } from './model';
import { connectNotifications } from './notify';
import { PackagesSidebar } from './sidebar';

export const PACKAGES_PLUGIN_ID = 'jupyter-marimo-proxy:packages';

export const SIDEBAR_CAPTION = 'Install package';

/**
 * Place in the left area: after the file browser (100), running sessions
 * (200), table of contents (400) and extension manager (1000).
 */
export const SIDEBAR_RANK = 1100;

export const packagesPlugin: JupyterFrontEndPlugin<PackagesModel> = {
  id: PACKAGES_PLUGIN_ID,
  description:
    'A sidebar to install packages into the marimo environment and restart marimo.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer],
  activate
};

function activate(
  app: JupyterFrontEnd,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null
): PackagesModel {
  const { commands, shell } = app;
  const model = new PackagesModel();
  const sidebar = new PackagesSidebar({ model });
  sidebar.id = PACKAGES_WIDGET_ID;
  sidebar.title.icon = packageInstallIcon;
  sidebar.title.caption = SIDEBAR_CAPTION;
  shell.add(sidebar, 'left', { rank: SIDEBAR_RANK });
  if (restorer) {
    restorer.add(sidebar, PACKAGES_WIDGET_ID);
  }

  const showSidebar = (): void => {
    shell.activateById(PACKAGES_WIDGET_ID);
  };
  connectNotifications(model, { showSidebar });

  model.restartFinished.connect((_, outcome) => {
    if (outcome.ok) {
      reloadMarimoTab(shell);
    }
  });

  commands.addCommand(CommandIDs.installPackage, {
    label: 'Install package into marimo venv',
    caption: 'Open the Install package sidebar',
    icon: packageInstallIcon,
    execute: () => {
      showSidebar();
      // (From the modal command palette, JupyterLab re-activates the
      // current main-area widget afterwards, which takes the focus back.)
      sidebar.specsField.focus();
    }
  });

  commands.addCommand(CommandIDs.restart, {
    label: 'Restart marimo',
    caption:
      'Restart the marimo server; the marimo tab reconnects when it is ready',
    isEnabled: () => !model.restarting,
    execute: () => model.restart()
  });
  model.changed.connect((_, kind) => {
    if (kind === 'restart') {
      commands.notifyCommandChanged(CommandIDs.restart);
    }
  });

  if (palette) {
    for (const command of [CommandIDs.installPackage, CommandIDs.restart]) {
      palette.addItem({ command, category: 'marimo' });
    }
  }
  return model;
}

/**
 * Reload the open marimo tab, if there is one, so that its editor
 * reconnects to the restarted server (a fresh status check and iframe).
 */
export function reloadMarimoTab(shell: JupyterFrontEnd.IShell): boolean {
  for (const widget of shell.widgets('main')) {
    if (widget.id === MARIMO_WIDGET_ID && isMarimoTab(widget)) {
      void widget.content.refresh();
      return true;
    }
  }
  return false;
}

function isMarimoTab(widget: Widget): widget is MainAreaWidget<MarimoPanel> {
  return (
    widget instanceof MainAreaWidget && widget.content instanceof MarimoPanel
  );
}
