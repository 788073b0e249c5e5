import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { FileBrowser } from '@jupyterlab/filebrowser';
import { dangerDialog } from '@jupyterlab/testing';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import {
  FILE_SELECTOR,
  LISTING_SELECTOR,
  notebooksPlugin
} from '../notebooks/plugin';
import { MarimoAppTab, MARIMO_FACTORY } from '../notebooks/widgets';
import { PackagesModel } from '../packages/model';
import {
  APP_TRACKER_NAMESPACE,
  CommandIDs,
  PACKAGES_WIDGET_ID
} from '../tokens';
import { healthyStatus, jsonResponse } from './fixtures';

type Item = { name: string; path: string; type: string };

function file(path: string): Item {
  return { name: path.split('/').pop()!, path, type: 'file' };
}

function folder(path: string): Item {
  return { name: path.split('/').pop()!, path, type: 'directory' };
}

/** Just enough of JupyterLab and its file browser for the plugin. */
function setup(options: { packages?: boolean } = {}) {
  const commands = new CommandRegistry();
  const docRegistry = new DocumentRegistry();
  const opened: any[] = [];
  commands.addCommand('docmanager:open', {
    execute: args => {
      opened.push(args);
      return null;
    }
  });
  const main: Widget[] = [];
  const shell = {
    currentWidget: null as Widget | null,
    add: jest.fn((widget: Widget) => {
      main.push(widget);
      Widget.attach(widget, document.body);
    }),
    activateById: jest.fn()
  };
  let hit: HTMLElement | undefined;
  const contextMenu = { addItem: jest.fn() };
  const app = {
    commands,
    shell,
    docRegistry,
    contextMenu,
    contextMenuHitTest: jest.fn(() => hit),
    serviceManager: {
      contents: { localPath: (path: string) => path.replace(/^[\w-]+:/, '') }
    }
  } as unknown as JupyterFrontEnd;

  let selection: Item[] = [];
  const browser = {
    selectedItems: function* () {
      yield* selection;
    },
    model: { path: 'work', refresh: jest.fn(async () => undefined) }
  } as unknown as FileBrowser;
  const browserFactory = {
    tracker: {
      currentWidget: browser,
      forEach: (fn: (b: FileBrowser) => void) => fn(browser)
    }
  };
  const palette = { addItem: jest.fn() };
  const restorer = {
    restore: jest.fn(async (_tracker: unknown, _options: any) => undefined)
  };
  const packages = options.packages
    ? ({
        installRequirements: jest.fn(async () => ({ ok: true }))
      } as unknown as PackagesModel)
    : null;

  notebooksPlugin.activate(
    app,
    browserFactory,
    browser,
    palette,
    restorer,
    packages
  );
  return {
    app,
    commands,
    docRegistry,
    shell,
    main,
    opened,
    browser,
    contextMenu,
    palette,
    restorer,
    packages,
    select: (...items: Item[]) => {
      selection = items;
    },
    hitFolder: (isDir: boolean) => {
      hit = document.createElement('li');
      hit.className = 'jp-DirListing-item';
      hit.dataset.isdir = String(isDir);
    }
  };
}

const FILE_COMMANDS = [
  CommandIDs.openNotebook,
  CommandIDs.runAsApp,
  CommandIDs.exportToIpynb,
  CommandIDs.convertToMarimo,
  CommandIDs.installRequirements
];

describe('notebooksPlugin', () => {
  let fetchMock: jest.SpyInstance;

  beforeEach(() => {
    fetchMock = jest.spyOn(globalThis, 'fetch');
  });

  afterEach(() => {
    fetchMock.mockRestore();
    Notification.dismiss();
    document.body.innerHTML = '';
  });

  /** Answer the REST API by endpoint; the rest of the URL is ignored. */
  function serve(routes: Record<string, (body: any, url: URL) => Response>) {
    fetchMock.mockImplementation(async (input: any) => {
      const url = new URL(String(input.url ?? input));
      const endpoint = url.pathname.replace(/^.*\/jupyter-marimo-proxy\//, '');
      const route = routes[`${input.method ?? 'GET'} ${endpoint}`];
      const text = input.text ? await input.text() : '';
      if (!route) {
        return jsonResponse(404, { message: `no ${endpoint}` });
      }
      return route(text ? JSON.parse(text) : undefined, url);
    });
  }

  it('opens *.marimo.py in marimo by default, other .py files not', () => {
    const { docRegistry } = setup();
    expect(docRegistry.getFileType('marimo')?.pattern).toBe(
      '^.*\\.marimo\\.py$'
    );
    expect(
      docRegistry.getFileTypesForPath('sub/analysis.marimo.py')[0].name
    ).toBe('marimo');
    expect(
      docRegistry.defaultWidgetFactory('sub/analysis.marimo.py')?.name
    ).toBe(MARIMO_FACTORY);
    expect(
      docRegistry.getFileTypesForPath('plain.py').map(ft => ft.name)
    ).not.toContain('marimo');
    expect(docRegistry.defaultWidgetFactory('plain.py')?.name).not.toBe(
      MARIMO_FACTORY
    );
    // "Open With" offers marimo for marimo notebooks only.
    expect(
      docRegistry.preferredWidgetFactories('a.marimo.py').map(f => f.name)
    ).toContain(MARIMO_FACTORY);
    const factory = docRegistry.getWidgetFactory(MARIMO_FACTORY)!;
    expect(factory.readOnly).toBe(true);
    expect(factory.modelName).toBe('marimo-file');
    expect(docRegistry.getModelFactory('marimo-file')).toBeTruthy();
  });

  it.each([
    ['analysis.ipynb', [CommandIDs.convertToMarimo]],
    [
      'analysis.marimo.py',
      [CommandIDs.openNotebook, CommandIDs.runAsApp, CommandIDs.exportToIpynb]
    ],
    [
      'sub/plain.py',
      [CommandIDs.openNotebook, CommandIDs.runAsApp, CommandIDs.exportToIpynb]
    ],
    ['requirements.txt', [CommandIDs.installRequirements]],
    ['data/measurements.csv', []]
  ])('in the file browser, %s gets %j', (path, expected) => {
    const { commands, select } = setup({ packages: true });
    select(file(path));
    const args = { origin: 'browser' };
    const enabled = FILE_COMMANDS.filter(id => commands.isEnabled(id, args));
    const visible = FILE_COMMANDS.filter(id => commands.isVisible(id, args));
    expect(enabled).toEqual(expected);
    expect(visible).toEqual(expected);
  });

  it('acts on one file at a time, and on an explicit path first', () => {
    const { commands, select } = setup();
    select(file('a.ipynb'), file('b.ipynb'));
    expect(
      commands.isEnabled(CommandIDs.convertToMarimo, { origin: 'browser' })
    ).toBe(false);
    select();
    expect(
      commands.isEnabled(CommandIDs.convertToMarimo, { path: 'x.ipynb' })
    ).toBe(true);
    expect(
      commands.isEnabled(CommandIDs.convertToMarimo, { path: 'x.py' })
    ).toBe(false);
  });

  it('from the palette, acts on the current tab’s file before the selection', async () => {
    const bodies: any[] = [];
    serve({
      'POST convert': body => {
        bodies.push(body);
        return jsonResponse(200, { path: 'nb/current.marimo.py' });
      }
    });
    const { commands, shell, select } = setup();
    select(file('other.py'));
    const current = new Widget() as Widget & { context: { path: string } };
    current.context = { path: 'RTC:nb/current.ipynb' };
    shell.currentWidget = current;
    expect(commands.isEnabled(CommandIDs.convertToMarimo)).toBe(true);
    await commands.execute(CommandIDs.convertToMarimo);
    // The server gets the path without JupyterLab's drive name.
    expect(bodies).toEqual([{ path: 'nb/current.ipynb', overwrite: false }]);
    // The selection still serves commands the current file is no use for.
    expect(commands.isEnabled(CommandIDs.runAsApp)).toBe(true);
    // Not without a file at all.
    select();
    expect(commands.isEnabled(CommandIDs.runAsApp)).toBe(false);
  });

  it('puts its commands in the file browser menu and the palette', () => {
    const { contextMenu, palette, restorer } = setup({ packages: true });
    const items = contextMenu.addItem.mock.calls.map(([item]) => item);
    expect(
      items.filter(i => i.selector === FILE_SELECTOR).map(i => i.command)
    ).toEqual(FILE_COMMANDS);
    expect(items.find(i => i.selector === LISTING_SELECTOR)?.command).toBe(
      CommandIDs.newNotebook
    );
    expect(items.every(i => i.args.origin === 'browser')).toBe(true);
    expect(palette.addItem.mock.calls.map(([i]) => i.command)).toEqual([
      CommandIDs.newNotebook,
      ...FILE_COMMANDS
    ]);
    expect(restorer.restore.mock.calls[0][1].command).toBe(CommandIDs.runAsApp);
  });

  it('offers no requirements install without the Install package sidebar', () => {
    const { commands, contextMenu } = setup();
    expect(commands.hasCommand(CommandIDs.installRequirements)).toBe(false);
    expect(
      contextMenu.addItem.mock.calls.map(([i]) => i.command)
    ).not.toContain(CommandIDs.installRequirements);
  });

  it('labels the commands as the issue names them', () => {
    const { commands } = setup({ packages: true });
    expect(
      [CommandIDs.newNotebook, ...FILE_COMMANDS].map(id => commands.label(id))
    ).toEqual([
      'New marimo notebook',
      'Open in marimo',
      'Run as app',
      'Export to Jupyter notebook',
      'Convert to marimo',
      'Install into marimo venv'
    ]);
  });

  it('creates a new notebook in the current folder and opens it in marimo', async () => {
    serve({
      'POST new': body =>
        jsonResponse(201, { path: `${body.directory}/untitled.marimo.py` })
    });
    const { commands, opened, browser } = setup();
    await commands.execute(CommandIDs.newNotebook, { origin: 'browser' });
    expect(browser.model.refresh).toHaveBeenCalled();
    expect(opened).toEqual([
      { path: 'work/untitled.marimo.py', factory: MARIMO_FACTORY }
    ]);
  });

  it('creates it in the folder right-clicked', async () => {
    const seen: string[] = [];
    serve({
      'POST new': body => {
        seen.push(body.directory);
        return jsonResponse(201, { path: 'work/data/untitled.marimo.py' });
      }
    });
    const { commands, select, hitFolder } = setup();
    select(folder('work/data'));
    hitFolder(true);
    await commands.execute(CommandIDs.newNotebook, { origin: 'browser' });
    hitFolder(false);
    await commands.execute(CommandIDs.newNotebook, { origin: 'browser' });
    expect(seen).toEqual(['work/data', 'work']);
  });

  it('converts after the user confirms the overwrite in the dialog', async () => {
    const bodies: any[] = [];
    serve({
      'POST convert': body => {
        bodies.push(body);
        return body.overwrite
          ? jsonResponse(200, { path: 'analysis.marimo.py' })
          : jsonResponse(409, {
              message: 'analysis.marimo.py already exists.',
              target: 'analysis.marimo.py'
            });
      }
    });
    const { commands, select, browser } = setup();
    select(file('analysis.ipynb'));
    const done = commands.execute(CommandIDs.convertToMarimo, {
      origin: 'browser'
    });
    await dangerDialog();
    expect(await done).toBe('analysis.marimo.py');
    expect(bodies).toEqual([
      { path: 'analysis.ipynb', overwrite: false },
      { path: 'analysis.ipynb', overwrite: true }
    ]);
    expect(browser.model.refresh).toHaveBeenCalled();
    expect(Notification.manager.notifications[0].message).toBe(
      'Converted analysis.ipynb to analysis.marimo.py.'
    );
  });

  it('runs a notebook as an app in one tab per notebook', async () => {
    serve({
      'GET status': () => jsonResponse(200, healthyStatus()),
      'GET notebook-url': (_, url) =>
        jsonResponse(200, {
          url: `/marimo/?file=${url.searchParams.get('path')}&view-as=present`
        })
    });
    const { commands, main, shell } = setup();
    await commands.execute(CommandIDs.runAsApp, { path: 'analysis.marimo.py' });
    await commands.execute(CommandIDs.runAsApp, { path: 'analysis.marimo.py' });
    expect(main).toHaveLength(1);
    const tab = main[0] as MarimoAppTab;
    expect(tab).toBeInstanceOf(MarimoAppTab);
    expect(tab.title.label).toBe('\u25B6 analysis');
    expect(tab.path).toBe('analysis.marimo.py');
    expect(shell.activateById).toHaveBeenLastCalledWith(tab.id);
    await tab.content.ready;
    expect(tab.content.url).toBe(
      '/marimo/?file=analysis.marimo.py&view-as=present'
    );
    expect(tab.node.querySelector('iframe')!.getAttribute('src')).toBe(
      '/marimo/?file=analysis.marimo.py&view-as=present'
    );
    expect(APP_TRACKER_NAMESPACE).toBe('jupyter-marimo-proxy-app');
  });

  it('restores an app tab without asking the server first', async () => {
    serve({ 'GET status': () => jsonResponse(200, healthyStatus()) });
    const { commands, main, restorer } = setup();
    const options = restorer.restore.mock.calls[0][1];
    const args = options.args({ path: 'gone.marimo.py' });
    expect(args).toEqual({ path: 'gone.marimo.py', restore: true });
    await commands.execute(CommandIDs.runAsApp, args);
    // The tab is there, and says in place what is wrong with the file.
    const tab = main[0] as MarimoAppTab;
    await tab.content.ready;
    expect(tab.content.state).toBe('failing');
    expect(tab.node.textContent).toContain('marimo cannot run gone.marimo.py');
    expect(Notification.manager.count).toBe(0);
  });

  it('says why a .py cannot be opened in marimo', async () => {
    serve({
      'GET notebook-url': () =>
        jsonResponse(400, {
          message:
            'plain.py is not a marimo notebook (no `app = marimo.App(...)`).'
        })
    });
    const { commands, opened, select } = setup();
    select(file('plain.py'));
    await commands.execute(CommandIDs.openNotebook, { origin: 'browser' });
    expect(opened).toEqual([]);
    expect(Notification.manager.notifications[0].message).toBe(
      'Could not open plain.py in marimo: plain.py is not a marimo notebook (no `app = marimo.App(...)`).'
    );
  });

  it('installs a requirements file through the sidebar model and shows it', async () => {
    const { commands, select, packages, shell } = setup({ packages: true });
    select(file('sub/requirements.txt'));
    await commands.execute(CommandIDs.installRequirements, {
      origin: 'browser'
    });
    expect(packages!.installRequirements).toHaveBeenCalledWith(
      'sub/requirements.txt'
    );
    expect(shell.activateById).toHaveBeenCalledWith(PACKAGES_WIDGET_ID);
  });
});
