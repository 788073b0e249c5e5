/**
 * Twin notebooks in JupyterLab: the file browser marks both files of a pair
 * (in step, stale, conflict), "Sync twin" and "Compare twin outputs" in its
 * context menu (the report opens in a tab), and opening a stale twin says so.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  Notification,
  showErrorMessage
} from '@jupyterlab/apputils';
import { FileBrowser, IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { Widget } from '@lumino/widgets';

import { TwinsAPI, ITwinPair } from './api';
import { badgesFor, isStale, pairOf, staleMessage } from './state';

export const TWINS_PLUGIN_ID = 'jupyter-marimo-proxy:twins';

export namespace TwinCommandIDs {
  export const sync = 'jupyter-marimo-proxy:sync-twin';
  export const compare = 'jupyter-marimo-proxy:compare-twin';
}

/** The attribute the badges' CSS keys on. */
export const BADGE_ATTRIBUTE = 'data-jmp-twin';

const FILE_SELECTOR = '.jp-DirListing-item[data-isdir="false"]';
const CONTEXT_RANK = 3.6;

const STYLE = `
.jp-DirListing-item[${BADGE_ATTRIBUTE}] .jp-DirListing-itemText::after {
  margin-left: 6px; font-size: 10px; padding: 0 4px; border-radius: 3px;
}
.jp-DirListing-item[${BADGE_ATTRIBUTE}="in-step"] .jp-DirListing-itemText::after {
  content: 'twin \\2713'; color: var(--jp-success-color1);
}
.jp-DirListing-item[${BADGE_ATTRIBUTE}="stale"] .jp-DirListing-itemText::after {
  content: 'twin stale'; color: var(--jp-warn-color1);
}
.jp-DirListing-item[${BADGE_ATTRIBUTE}="conflict"] .jp-DirListing-itemText::after {
  content: 'twin conflict'; color: var(--jp-error-color1);
}
.jmp-TwinReport { overflow: auto; padding: 8px 12px; }
.jmp-TwinReport pre { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); white-space: pre-wrap; }
`;

export const twinsPlugin: JupyterFrontEndPlugin<void> = {
  id: TWINS_PLUGIN_ID,
  description:
    'Twin notebooks (x.ipynb and x.marimo.py): state in the file browser, sync, compare outputs.',
  autoStart: true,
  optional: [IDefaultFileBrowser, ICommandPalette],
  activate
};

/** Mark the listing's items with their twin state. */
export function decorate(node: HTMLElement, pairs: ITwinPair[]): void {
  const badges = badgesFor(pairs);
  node.querySelectorAll<HTMLElement>('.jp-DirListing-item').forEach(item => {
    const name =
      item.querySelector('.jp-DirListing-itemText')?.textContent?.trim() ?? '';
    const badge = badges.get(name);
    if (badge) {
      item.setAttribute(BADGE_ATTRIBUTE, badge.kind);
      item.setAttribute('data-jmp-twin-title', badge.title);
    } else {
      item.removeAttribute(BADGE_ATTRIBUTE);
      item.removeAttribute('data-jmp-twin-title');
    }
  });
}

/** The report of "Compare twin outputs", in a tab. */
export function reportWidget(path: string, text: string): MainAreaWidget {
  const content = new Widget();
  content.addClass('jmp-TwinReport');
  const pre = document.createElement('pre');
  pre.textContent = text;
  content.node.appendChild(pre);
  const widget = new MainAreaWidget({ content });
  widget.id = `jmp-twin-report-${Date.now()}`;
  widget.title.label = `Twin outputs: ${path.split('/').pop()}`;
  widget.title.closable = true;
  return widget;
}

function activate(
  app: JupyterFrontEnd,
  browser: FileBrowser | null,
  palette: ICommandPalette | null,
  api: TwinsAPI = new TwinsAPI()
): void {
  const { commands, shell } = app;
  const style = document.createElement('style');
  style.textContent = STYLE;
  document.head.appendChild(style);

  let pairs: ITwinPair[] = [];
  const refresh = async (): Promise<void> => {
    if (!browser) {
      return;
    }
    try {
      pairs = await api.list(browser.model.path);
    } catch {
      pairs = [];
    }
    decorate(browser.node, pairs);
  };
  if (browser) {
    browser.model.pathChanged.connect(() => void refresh());
    browser.model.refreshed.connect(() =>
      requestAnimationFrame(() => decorate(browser.node, pairs))
    );
    browser.model.fileChanged.connect(() => void refresh());
    void refresh();
  }

  const selectedPath = (): string | null => {
    const item = browser?.selectedItems().next();
    return item && !item.done && item.value.type !== 'directory'
      ? item.value.path
      : null;
  };
  const isTwinFile = (path: string | null): boolean =>
    !!path && /\.(ipynb|py)$/i.test(path);

  commands.addCommand(TwinCommandIDs.sync, {
    label: 'Sync twin',
    caption:
      'Regenerate the stale side of x.ipynb / x.marimo.py from the changed one',
    isVisible: () => isTwinFile(selectedPath()),
    execute: async args => {
      const path = (args.path as string) || selectedPath();
      if (!path) {
        return;
      }
      try {
        const answer = await api.sync(path, {
          create: true,
          from: args.from as 'ipynb' | 'marimo' | undefined,
          force: args.force === true
        });
        Notification.success(`${answer.message} (${answer.pair.description})`, {
          autoClose: 5000
        });
      } catch (error) {
        await showErrorMessage('Sync twin', (error as Error).message);
      }
      await refresh();
    }
  });

  commands.addCommand(TwinCommandIDs.compare, {
    label: 'Compare twin outputs',
    caption: 'Run both twins on the marimo venv and compare their outputs',
    isVisible: () => isTwinFile(selectedPath()),
    execute: async args => {
      const path = (args.path as string) || selectedPath();
      if (!path) {
        return;
      }
      const id = Notification.emit(
        `Running both twins of ${path}…`,
        'in-progress',
        {
          autoClose: false
        }
      );
      try {
        const report = await api.check(path);
        Notification.update({
          id,
          message: report.summary,
          type: report.ok ? 'success' : 'warning',
          autoClose: 5000
        });
        const widget = reportWidget(path, report.text);
        shell.add(widget, 'main');
        shell.activateById(widget.id);
      } catch (error) {
        Notification.update({
          id,
          message: `Compare twin outputs: ${(error as Error).message}`,
          type: 'error',
          autoClose: false
        });
      }
    }
  });

  for (const command of [TwinCommandIDs.sync, TwinCommandIDs.compare]) {
    app.contextMenu.addItem({
      command,
      selector: FILE_SELECTOR,
      rank: CONTEXT_RANK
    });
    palette?.addItem({ command, category: 'marimo' });
  }

  // Opening a stale twin says so, once per file and session.
  const told = new Set<string>();
  shell.currentChanged?.connect(async (_, change) => {
    const path = (change.newValue as any)?.context?.path as string | undefined;
    if (!path || told.has(path) || !isTwinFile(path)) {
      return;
    }
    const folder = path.includes('/')
      ? path.slice(0, path.lastIndexOf('/'))
      : '';
    try {
      const pair = pairOf(path, await api.list(folder));
      if (pair && isStale(pair.state)) {
        told.add(path);
        Notification.warning(staleMessage(path, pair), {
          autoClose: false,
          actions: [
            {
              label: 'Sync twin',
              callback: () =>
                void commands.execute(TwinCommandIDs.sync, { path })
            }
          ]
        });
      }
    } catch {
      // No server part or no twin: nothing to say.
    }
  });
}
