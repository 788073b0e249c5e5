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
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import {
  FileBrowser,
  IDefaultFileBrowser,
  IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import { Widget } from '@lumino/widgets';

import { marimoIcon } from '../icons';
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
    IPackagesModel
  ],
  activate
};

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
  packages: PackagesModel | null
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
    label: 'New marimo notebook',
    caption: 'Create a marimo notebook in this folder and open it in marimo',
    icon: marimoIcon,
    execute: args => actions.create(target.directory(args))
  });

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
