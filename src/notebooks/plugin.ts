/**
 * "Jupyter and marimo side by side": marimo notebooks in the file browser
 * and the command palette.
 *
 * - `*.marimo.py` opens in marimo on double-click (a file type and the
 *   default widget factory for it); "Open in marimo" does the same for any
 *   `.py` the server recognises as a marimo app.
 * - "New marimo notebook" on a folder or the file browser's background.
 * - "Convert to marimo" on `.ipynb`, "Export to Jupyter notebook" and
 *   "Run as app" on marimo notebooks.
 * - "Install into marimo venv" on `requirements.txt`, followed in the
 *   "Install package" sidebar.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { DocumentWidget } from '@jupyterlab/docregistry';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { IRunningSessionManagers } from '@jupyterlab/running';
import {
  FileBrowser,
  IDefaultFileBrowser,
  IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import { Widget } from '@lumino/widgets';

import { iconDataUrl, marimoIcon, marimoNotebookIcon } from '../icons';
import { addFrameHooks, allMarimoFrames, MarimoPanel } from '../panel';
import {
  applyTheme,
  classifyMarimoUrl,
  focusFirstEmptyCell,
  guardKernelSockets,
  hookNewWindows,
  MarimoTheme,
  withTheme
} from './frame';
import { RecoveryWatcher } from './recovery';
import { MarimoRunningManager } from './running';
import { IPackagesModel } from '../packages/plugin';
import { PackagesModel } from '../packages/model';
import {
  APP_TRACKER_NAMESPACE,
  CommandIDs,
  IFileCommandArgs,
  PACKAGES_WIDGET_ID
} from '../tokens';
import { confirmOverwrite, INotebookHost, NotebookActions } from './actions';
import { NotebooksAPI } from './api';
import { isJupyterNotebook, isPythonFile, isRequirementsFile } from './paths';
import {
  MARIMO_FACTORY,
  MarimoAppTab,
  MarimoDocumentFactory,
  marimoFileType,
  MarimoModelFactory
} from './widgets';

export const NOTEBOOKS_PLUGIN_ID = 'jupyter-marimo-proxy:notebooks';

/** File browser context menu: the items of one file. */
export const FILE_SELECTOR = '.jp-DirListing-item[data-isdir="false"]';
/** File browser context menu: anywhere in the listing (as "New Folder"). */
export const LISTING_SELECTOR = '.jp-DirListing-content';

/**
 * Ranks in the file browser's context menu: after JupyterLab's "Open",
 * "Open With" and "Open in New Browser Tab" (1-3), before "Rename" (5).
 */
const CONTEXT_RANK = 3.5;

export const notebooksPlugin: JupyterFrontEndPlugin<void> = {
  id: NOTEBOOKS_PLUGIN_ID,
  description:
    'marimo notebooks in the file browser: open, create, convert, export, run as an app.',
  autoStart: true,
  optional: [
    IFileBrowserFactory,
    IDefaultFileBrowser,
    ICommandPalette,
    ILayoutRestorer,
    IPackagesModel,
    ILauncher,
    IMainMenu,
    IRunningSessionManagers,
    IThemeManager
  ],
  activate
};

/**
 * The new-notebook tile: in the Launcher's Notebook section, just before
 * the "marimo" tile (marimo's home, rank 10), as a family.
 */
const NEW_NOTEBOOK_RANK = 9;

/** Which files a command acts on, by contents path. */
export const APPLIES_TO: Record<string, (path: string) => boolean> = {
  [CommandIDs.openNotebook]: isPythonFile,
  [CommandIDs.runAsApp]: isPythonFile,
  [CommandIDs.exportToIpynb]: isPythonFile,
  [CommandIDs.convertToMarimo]: isJupyterNotebook,
  [CommandIDs.installRequirements]: isRequirementsFile
};

function activate(
  app: JupyterFrontEnd,
  browserFactory: IFileBrowserFactory | null,
  defaultBrowser: FileBrowser | null,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  packages: PackagesModel | null,
  launcher: ILauncher | null = null,
  mainMenu: IMainMenu | null = null,
  runningManagers: IRunningSessionManagers | null = null,
  themeManager: IThemeManager | null = null
): void {
  const { commands, shell, docRegistry } = app;
  const api = new NotebooksAPI();

  docRegistry.addFileType(marimoFileType());
  docRegistry.addModelFactory(new MarimoModelFactory());
  docRegistry.addWidgetFactory(new MarimoDocumentFactory({ api }));

  const appTracker = new WidgetTracker<MarimoAppTab>({
    namespace: APP_TRACKER_NAMESPACE
  });

  const browsers = (): FileBrowser[] => {
    const found: FileBrowser[] = [];
    browserFactory?.tracker.forEach(browser => found.push(browser));
    if (defaultBrowser && !found.includes(defaultBrowser)) {
      found.push(defaultBrowser);
    }
    return found;
  };
  const currentBrowser = (): FileBrowser | null =>
    browserFactory?.tracker.currentWidget ?? defaultBrowser ?? null;
  // The server knows the root's paths only, not JupyterLab's drive names.
  const localPath = (path: string): string =>
    app.serviceManager?.contents?.localPath?.(path) ?? path;

  const openApp = (path: string, url?: string): MarimoAppTab => {
    let widget = appTracker.find(tab => tab.path === path);
    if (!widget || widget.isDisposed) {
      widget = new MarimoAppTab({ path, url, api });
      void appTracker.add(widget);
    }
    if (!widget.isAttached) {
      shell.add(widget, 'main');
    }
    shell.activateById(widget.id);
    return widget;
  };

  const host: INotebookHost = {
    confirmOverwrite,
    openInMarimo: path =>
      commands.execute('docmanager:open', { path, factory: MARIMO_FACTORY }),
    openDocument: path => commands.execute('docmanager:open', { path }),
    openApp,
    refreshFileBrowser: async () => {
      await Promise.all(browsers().map(browser => browser.model.refresh()));
    }
  };
  const actions = new NotebookActions(api, host);

  // A new notebook is ready to type in: the cursor goes to its empty cell.
  host.afterCreate = opened => {
    const content = opened instanceof DocumentWidget ? opened.content : null;
    if (!(content instanceof MarimoPanel)) {
      return;
    }
    const focus = (): void => {
      const iframe = content.iframe;
      if (iframe) {
        void focusFirstEmptyCell(iframe);
      }
    };
    if (content.frameReady) {
      focus();
    } else {
      const once = (): void => {
        content.frameShown.disconnect(once);
        focus();
      };
      content.frameShown.connect(once);
    }
  };

  const target = selectTarget(app, currentBrowser, localPath);

  const fileCommand = (
    id: string,
    label: string,
    caption: string,
    run: (path: string, args: IFileCommandArgs) => unknown
  ): void => {
    const applies = APPLIES_TO[id];
    commands.addCommand(id, {
      label,
      caption,
      icon: marimoIcon,
      isEnabled: args => target.file(args, applies) !== null,
      isVisible: args => target.file(args, applies) !== null,
      execute: args => {
        const path = target.file(args, applies);
        return path === null ? null : run(path, args as IFileCommandArgs);
      }
    });
  };

  fileCommand(
    CommandIDs.openNotebook,
    'Open in marimo',
    'Open this marimo notebook in marimo’s editor',
    path => actions.open(path)
  );
  fileCommand(
    CommandIDs.runAsApp,
    'Run as app',
    'Show this marimo notebook as an app: code hidden, outputs and widgets live',
    // Restoring a tab does not ask the server first: the tab asks for its
    // URL itself, and says in place if the file is gone.
    (path, args) => (args.restore ? openApp(path) : actions.runAsApp(path))
  );
  fileCommand(
    CommandIDs.exportToIpynb,
    'Export to Jupyter notebook',
    'Write this marimo notebook as a Jupyter notebook (.ipynb) next to it',
    path => actions.exportToIpynb(path)
  );
  fileCommand(
    CommandIDs.convertToMarimo,
    'Convert to marimo',
    'Write this Jupyter notebook as a marimo notebook (.marimo.py) next to it',
    path => actions.convert(path)
  );
  if (packages) {
    fileCommand(
      CommandIDs.installRequirements,
      'Install into marimo venv',
      'Install the packages this file lists into the marimo venv',
      async path => {
        shell.activateById(PACKAGES_WIDGET_ID);
        return packages.installRequirements(path);
      }
    );
  }

  commands.addCommand(CommandIDs.newNotebook, {
    label: args =>
      args.isLauncher || args.isMenu
        ? 'marimo notebook'
        : 'New marimo notebook',
    caption: 'Create a marimo notebook in this folder and open it in marimo',
    icon: args =>
      args.isLauncher || args.isMenu ? marimoNotebookIcon : marimoIcon,
    execute: args =>
      actions.create(
        // The Launcher passes its folder (the file browser's, when opened).
        typeof args.cwd === 'string' && !args.directory
          ? localPath(args.cwd)
          : target.directory(args)
      )
  });
  if (launcher) {
    launcher.add({
      command: CommandIDs.newNotebook,
      category: 'Notebook',
      rank: NEW_NOTEBOOK_RANK,
      args: { isLauncher: true },
      kernelIconUrl: iconDataUrl(marimoNotebookIcon)
    });
  }
  if (mainMenu) {
    mainMenu.fileMenu.newMenu.addItem({
      command: CommandIDs.newNotebook,
      args: { isMenu: true },
      // After JupyterLab's "Notebook" and "Console".
      rank: 2.5
    });
  }

  // Every marimo frame: JupyterLab's theme, marimo's links kept in Lab
  // tabs, and recovery after marimo restarts.
  const theme = (): MarimoTheme | null => {
    const name = themeManager?.theme;
    if (!themeManager || !name) {
      return null;
    }
    return themeManager.isLight(name) ? 'light' : 'dark';
  };
  const baseUrlPath = new URL(PageConfig.getBaseUrl(), window.location.href)
    .pathname;
  const openTarget = (
    href: string,
    base: string,
    panel: MarimoPanel
  ): boolean => {
    const rootDir = panel.lastCheck?.status?.root_dir ?? null;
    const found = classifyMarimoUrl(href, base, baseUrlPath, rootDir);
    if (!found) {
      return false;
    }
    switch (found.kind) {
      case 'home':
        void commands.execute(CommandIDs.open, { target: 'tab' });
        break;
      case 'new':
        void actions.create(target.directory({}));
        break;
      case 'file':
        void host.openInMarimo(found.path);
        break;
      case 'app':
        void actions.runAsApp(found.path);
        break;
    }
    return true;
  };
  const watcher = new RecoveryWatcher();
  addFrameHooks({
    url: url => withTheme(url, theme()),
    loaded: (iframe, panel) => {
      applyTheme(iframe, theme());
      hookNewWindows(iframe, (href, base) => openTarget(href, base, panel));
      guardKernelSockets(iframe, () => watcher.mayReconnect(panel));
    },
    ready: (iframe, panel) => {
      applyTheme(iframe, theme());
      void watcher.track(panel);
    }
  });
  themeManager?.themeChanged.connect(() => {
    allMarimoFrames().forEach(iframe => applyTheme(iframe, theme()));
  });

  if (runningManagers) {
    const manager = new MarimoRunningManager({
      icon: marimoIcon,
      openNotebook: path => void host.openInMarimo(path),
      apps: () => {
        const apps: {
          path: string;
          open: () => void;
          close: () => void;
        }[] = [];
        appTracker.forEach(tab =>
          apps.push({
            path: tab.path,
            open: () => shell.activateById(tab.id),
            close: () => tab.close()
          })
        );
        return apps;
      },
      // marimo names files relative to its root, which is Jupyter's.
      rootDir: () => null
    });
    runningManagers.add(manager);
    appTracker.widgetAdded.connect((_, tab) => {
      void manager.refreshRunning();
      tab.disposed.connect(() => void manager.refreshRunning());
    });
    void manager.refreshRunning();
  }

  const contextItems = [
    CommandIDs.openNotebook,
    CommandIDs.runAsApp,
    CommandIDs.exportToIpynb,
    CommandIDs.convertToMarimo,
    ...(packages ? [CommandIDs.installRequirements] : [])
  ];
  contextItems.forEach((command, index) => {
    app.contextMenu.addItem({
      command,
      selector: FILE_SELECTOR,
      rank: CONTEXT_RANK + index / 100,
      args: { origin: 'browser' }
    });
  });
  app.contextMenu.addItem({
    command: CommandIDs.newNotebook,
    selector: LISTING_SELECTOR,
    // With JupyterLab's "New Folder" and "New File".
    rank: 54.5,
    args: { origin: 'browser' }
  });

  if (palette) {
    for (const command of [CommandIDs.newNotebook, ...contextItems]) {
      palette.addItem({ command, category: 'marimo' });
    }
  }

  if (restorer) {
    void restorer.restore(appTracker, {
      command: CommandIDs.runAsApp,
      args: widget => ({ path: widget.path, restore: true }),
      name: widget => widget.path
    });
  }
}

/**
 * Where a command acts: on `args.path`, else on what was right-clicked in
 * the file browser, else (palette) on the current tab's file or the file
 * browser's selection, whichever the command applies to.
 */
export function selectTarget(
  app: JupyterFrontEnd,
  currentBrowser: () => FileBrowser | null,
  localPath: (path: string) => string = path => path
) {
  const selection = (): string[] => {
    const browser = currentBrowser();
    return browser ? Array.from(browser.selectedItems()).map(i => i.path) : [];
  };
  const currentFile = (): string | null => {
    const widget: Widget | null = app.shell.currentWidget;
    if (widget instanceof MarimoAppTab) {
      return widget.path;
    }
    const context = (widget as { context?: { path?: unknown } } | null)
      ?.context;
    return typeof context?.path === 'string' ? context.path : null;
  };

  return {
    /** The file a command acts on, or null when there is none it applies to. */
    file(
      args: IFileCommandArgs | Record<string, unknown>,
      applies: (path: string) => boolean
    ): string | null {
      const { path, origin } = args as IFileCommandArgs;
      let candidates: (string | null)[];
      if (typeof path === 'string') {
        candidates = [path];
      } else {
        const selected = selection();
        // One file at a time: a command on several would need a plan for
        // several dialogs.
        const single = selected.length === 1 ? selected[0] : null;
        candidates = origin === 'browser' ? [single] : [currentFile(), single];
      }
      const found = candidates.find(
        (candidate): candidate is string =>
          candidate !== null && applies(candidate)
      );
      return found === undefined ? null : localPath(found);
    },

    /**
     * The folder a new notebook goes in: `args.directory`, else the folder
     * right-clicked, else the file browser's current folder.
     */
    directory(args: IFileCommandArgs | Record<string, unknown>): string {
      const { directory, origin } = args as IFileCommandArgs;
      if (typeof directory === 'string') {
        return localPath(directory);
      }
      const browser = currentBrowser();
      if (origin === 'browser' && browser) {
        const hit = app.contextMenuHitTest(node =>
          node.classList.contains('jp-DirListing-item')
        );
        if (hit?.dataset.isdir === 'true') {
          const folders = Array.from(browser.selectedItems()).filter(
            item => item.type === 'directory'
          );
          if (folders.length === 1) {
            return localPath(folders[0].path);
          }
        }
      }
      return browser ? localPath(browser.model.path) : '';
    }
  };
}
