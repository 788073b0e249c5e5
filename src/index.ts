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
import { marimoStatus, StatusStore } from './statusStore';
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

  const status: StatusStore = marimoStatus;
  // Unknown until the startup check answers (through the shared status).
  let lastCheck: IStatusCheck | null = null;
  let openInNewBrowserTab = false;
  let launcherItem: IDisposable | null = null;

  // The tile and the command follow the shared status (every tab, the
  // sidebar and restarts ask through it), so that a failed start or a
  // missing server part shows on the tile whoever saw it first.
  const remember = (check: IStatusCheck): void => {
    const looked = tileState(lastCheck);
    lastCheck = check;
    commands.notifyCommandChanged(CommandIDs.open);
    if (tileState(check) !== looked) {
      addLauncherItem();
    }
  };
  status.changed.connect((_, check) => remember(check));

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
        tileState(lastCheck) === 'well' ? marimoIcon : marimoUnavailableIcon
      )
    });
  };

  const openTab = (): MainAreaWidget<MarimoPanel> => {
    let widget = tracker.find(() => true);
    if (!widget || widget.isDisposed) {
      // Its checks, and the end of each start, go through the shared status.
      widget = createMarimoTab({ url });
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
    // On the tile, the label is what shows (and its tooltip: JupyterLab
    // shows no caption on the Notebook section's cards).
    label: args => tileLabel(args as IOpenArgs, lastCheck),
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
      (args as IOpenArgs).isPalette || tileState(lastCheck) === 'well'
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

  // One request at startup, for the tile; the tabs and the sidebar ask
  // through the same shared status.
  void status.check();
}

/** What the tile shows: marimo, a failed start, or a broken server part. */
export type TileState = 'well' | 'failed' | 'unavailable';

export function tileState(check: IStatusCheck | null): TileState {
  if (!isAvailable(check)) {
    return 'unavailable';
  }
  return failedStart(check) === null ? 'well' : 'failed';
}

/**
 * The command's label: "Open marimo" in the palette; on the tile "marimo",
 * or what is wrong (the icon has a warning badge then, and clicking the
 * tile opens the tab that says why, with a retry).
 */
export function tileLabel(args: IOpenArgs, check: IStatusCheck | null): string {
  if (args.isPalette) {
    return 'Open marimo';
  }
  if (!args.isLauncher) {
    return 'marimo';
  }
  switch (tileState(check)) {
    case 'failed':
      return 'marimo (failed to start)';
    case 'unavailable':
      return 'marimo (unavailable)';
    default:
      return 'marimo';
  }
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

export { notebooksPlugin, packagesPlugin };

export default [
  plugin,
  packagesPlugin,
  notebooksPlugin,
  twinsPlugin
] as JupyterFrontEndPlugin<any>[];
