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
import { Token } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import { packageInstallIcon } from '../icons';
import { marimoStatus } from '../statusStore';
import { MarimoPanel } from '../panel';
import { CommandIDs, PACKAGES_WIDGET_ID } from '../tokens';
import { PackagesModel } from './model';
import { connectNotifications } from './notify';
import { PackagesSidebar } from './sidebar';

export const PACKAGES_PLUGIN_ID = 'jupyter-marimo-proxy:packages';

/**
 * The sidebar's model, for other plugins that start jobs on the venv (an
 * install of a requirements file from the file browser) and want them
 * followed in the sidebar.
 */
export const IPackagesModel = new Token<PackagesModel>(
  'jupyter-marimo-proxy:IPackagesModel',
  'The model of the "Install package" sidebar: the venv, its packages and jobs.'
);

export const SIDEBAR_CAPTION =
  'marimo packages: install packages, see the environment, restart marimo';

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
  provides: IPackagesModel,
  optional: [ICommandPalette, ILayoutRestorer],
  activate
};

function activate(
  app: JupyterFrontEnd,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null
): PackagesModel {
  const { commands, shell } = app;
  // The status it shows is the one the tile and the tabs follow.
  const model = new PackagesModel({ status: marimoStatus });
  const sidebar = new PackagesSidebar({
    model,
    openMarimo: () => void commands.execute(CommandIDs.open, { target: 'tab' })
  });
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
  connectNotifications(model, {
    showSidebar,
    sidebarVisible: () => sidebar.isVisible
  });

  model.restartFinished.connect((_, outcome) => {
    if (outcome.ok) {
      reloadMarimoTab(shell);
    }
  });

  commands.addCommand(CommandIDs.installPackage, {
    label: 'Install package into marimo venv',
    caption: 'Open the marimo packages sidebar',
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
    // Asks first: a restart ends every running notebook.
    execute: () => sidebar.restart()
  });
  commands.addCommand(CommandIDs.repair, {
    label: 'Repair marimo venv',
    caption:
      'Rebuild the marimo venv if it is broken and reinstall the packages ' +
      'you installed',
    isEnabled: () => !model.repairJob,
    execute: async () => {
      showSidebar();
      return model.repair();
    }
  });

  model.changed.connect((_, kind) => {
    if (kind === 'restart') {
      commands.notifyCommandChanged(CommandIDs.restart);
    } else if (kind === 'jobs') {
      commands.notifyCommandChanged(CommandIDs.repair);
    }
  });

  if (palette) {
    for (const command of [
      CommandIDs.installPackage,
      CommandIDs.restart,
      CommandIDs.repair
    ]) {
      palette.addItem({ command, category: 'marimo' });
    }
  }
  return model;
}

/**
 * Reload every open marimo tab (marimo's home, notebooks, apps), so that
 * each reconnects to the restarted server (a fresh status check and
 * iframe). Whether there was one.
 */
export function reloadMarimoTab(shell: JupyterFrontEnd.IShell): boolean {
  let reloaded = false;
  for (const widget of shell.widgets('main')) {
    if (isMarimoTab(widget)) {
      void widget.content.refresh();
      reloaded = true;
    }
  }
  return reloaded;
}

function isMarimoTab(widget: Widget): widget is MainAreaWidget<MarimoPanel> {
  return (
    widget instanceof MainAreaWidget && widget.content instanceof MarimoPanel
  );
}
