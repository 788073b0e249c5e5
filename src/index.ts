import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ILauncher } from '@jupyterlab/launcher';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IDisposable } from '@lumino/disposable';

import { iconDataUrl, marimoIcon, marimoUnavailableIcon } from './icons';
import { notebooksPlugin } from './notebooks/plugin';
import { packagesPlugin } from './packages/plugin';
import { twinsPlugin } from './twins/plugin';
import { createMarimoTab, MarimoPanel, openInBrowserTab } from './panel';
import { fetchStatus } from './status';
import {
  CommandIDs,
  IOpenArgs,
  IStatusCheck,
  PLUGIN_ID,
  TRACKER_NAMESPACE
} from './tokens';
import { marimoTabUrl } from './urls';

const CAPTION =
  'Open marimo’s home (your notebooks and running sessions) in a JupyterLab tab';

/** Launcher placement: the Notebook section, after the kernels' notebooks. */
const LAUNCHER_CATEGORY = 'Notebook';
const LAUNCHER_RANK = 10;

export const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Open marimo from the Launcher in a JupyterLab tab.',
  autoStart: true,
  optional: [ILauncher, ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate
};

function activate(
  app: JupyterFrontEnd,
  launcher: ILauncher | null,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  settingRegistry: ISettingRegistry | null
): void {
  const { commands, shell } = app;
  const url = marimoTabUrl(PageConfig.getBaseUrl());
  const tracker = new WidgetTracker<MainAreaWidget<MarimoPanel>>({
    namespace: TRACKER_NAMESPACE
  });

  let lastCheck: IStatusCheck | null = null;
  let openInNewBrowserTab = false;
  let launcherItem: IDisposable | null = null;

  // The tile and the command follow the latest status known, so that a
  // missing server part shows on the tile before anyone clicks it.
  const remember = (check: IStatusCheck): void => {
    const looked = tileLooksWell(lastCheck);
    lastCheck = check;
    commands.notifyCommandChanged(CommandIDs.open);
    if (tileLooksWell(check) !== looked) {
      addLauncherItem();
    }
  };

  const addLauncherItem = (): void => {
    if (!launcher) {
      return;
    }
    // Launcher items cannot be changed in place; replacing keeps exactly
    // one tile.
    launcherItem?.dispose();
    launcherItem = launcher.add({
      command: CommandIDs.open,
      category: LAUNCHER_CATEGORY,
      rank: LAUNCHER_RANK,
      args: { isLauncher: true },
      kernelIconUrl: iconDataUrl(
        tileLooksWell(lastCheck) ? marimoIcon : marimoUnavailableIcon
      )
    });
  };

  const openTab = (): MainAreaWidget<MarimoPanel> => {
    let widget = tracker.find(() => true);
    if (!widget || widget.isDisposed) {
      widget = createMarimoTab({ url });
      widget.content.statusChecked.connect((_, check) => remember(check));
      // The check before a start may still say "failed"; once marimo's page
      // shows, the tile learns that marimo runs again.
      widget.content.frameShown.connect(() => {
        void fetchStatus().then(remember);
      });
      void tracker.add(widget);
    } else if (showsFailure(widget.content)) {
      // Opening marimo again (the tile, "Open marimo to retry") is how the
      // user retries: a tab left on a failure checks and loads again.
      void widget.content.refresh();
    }
    if (!widget.isAttached) {
      shell.add(widget, 'main');
    }
    shell.activateById(widget.id);
    return widget;
  };

  commands.addCommand(CommandIDs.open, {
    label: args => ((args as IOpenArgs).isPalette ? 'Open marimo' : 'marimo'),
    caption: () => {
      if (lastCheck && lastCheck.kind !== 'ok') {
        return `${CAPTION}. ${lastCheck.title}.`;
      }
      const failure = failedStart(lastCheck);
      return failure
        ? `${CAPTION}. marimo could not start: ${failure} Open it to retry.`
        : CAPTION;
    },
    icon: args =>
      (args as IOpenArgs).isPalette || tileLooksWell(lastCheck)
        ? marimoIcon
        : marimoUnavailableIcon,
    execute: args => {
      const inTab = (args as IOpenArgs).target === 'tab';
      // Only go to a browser tab while the server part is not known to be
      // broken: the JupyterLab tab can explain what is wrong, a bare
      // browser tab would show Jupyter's 404 page.
      if (openInNewBrowserTab && !inTab && isAvailable(lastCheck)) {
        openInBrowserTab(url);
        return null;
      }
      return openTab();
    }
  });

  addLauncherItem();

  if (palette) {
    palette.addItem({
      command: CommandIDs.open,
      category: 'marimo',
      args: { isPalette: true }
    });
  }

  if (restorer) {
    void restorer.restore(tracker, {
      command: CommandIDs.open,
      // Restoring a layout must bring back the JupyterLab tab, never open
      // browser windows, whatever the user's preference.
      args: () => ({ target: 'tab' }),
      name: () => 'marimo'
    });
  }

  if (settingRegistry) {
    settingRegistry
      .load(PLUGIN_ID)
      .then(settings => {
        const update = (): void => {
          openInNewBrowserTab = settings.composite.openInNewBrowserTab === true;
        };
        update();
        settings.changed.connect(update);
      })
      .catch(reason => {
        console.error(`Failed to load settings for ${PLUGIN_ID}.`, reason);
      });
  }

  // One request at startup, for the tile; each opened tab makes its own.
  void fetchStatus().then(remember);
}

/**
 * Whether marimo can be expected to load. Unknown (no answer yet) counts as
 * available: the startup check must not delay or block the first click.
 */
function isAvailable(check: IStatusCheck | null): boolean {
  return check === null || check.kind === 'ok';
}

/** The tab shows why marimo is not there (a failed start, marimo gone), not marimo. */
export function showsFailure(panel: MarimoPanel): boolean {
  return (
    panel.state === 'failing' ||
    panel.node.querySelector('.jp-MarimoProxy-notice') !== null
  );
}

/** The reason marimo's last start failed, if the status says it did. */
export function failedStart(check: IStatusCheck | null): string | null {
  const marimo = check?.status?.marimo;
  if (!marimo || marimo.state !== 'failed') {
    return null;
  }
  return marimo.error || 'see the tab for the reason.';
}

/** The tile shows the plain icon unless the server part is broken or marimo failed to start. */
function tileLooksWell(check: IStatusCheck | null): boolean {
  return isAvailable(check) && failedStart(check) === null;
}

export { notebooksPlugin, packagesPlugin };

export default [
  plugin,
  packagesPlugin,
  notebooksPlugin,
  twinsPlugin
] as JupyterFrontEndPlugin<any>[];
