import { JupyterFrontEnd } from '@jupyterlab/application';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import plugins, { plugin } from '../index';
import { MarimoPanel } from '../panel';
import { marimoStatus } from '../statusStore';
import { CommandIDs, MARIMO_WIDGET_ID, PLUGIN_ID } from '../tokens';
import { healthyStatus, jsonResponse } from './fixtures';

/** Just enough of JupyterLab for the plugin: commands and a main area. */
function fakeApp() {
  const commands = new CommandRegistry();
  const shell = {
    add: jest.fn((widget: Widget) => Widget.attach(widget, document.body)),
    activateById: jest.fn()
  };
  return { app: { commands, shell } as unknown as JupyterFrontEnd, shell };
}

function fakeLauncher() {
  const items: { options: any; dispose: jest.Mock }[] = [];
  const launcher = {
    add: jest.fn((options: any) => {
      const item = { options, dispose: jest.fn() };
      items.push(item);
      return item;
    })
  };
  return { launcher, items };
}

/** Let pending promise callbacks (status request, settings) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

describe(PLUGIN_ID, () => {
  let fetchMock: jest.SpyInstance;

  beforeEach(() => {
    fetchMock = jest.spyOn(globalThis, 'fetch');
  });

  afterEach(() => {
    fetchMock.mockRestore();
    document.body.innerHTML = '';
  });

  it('is exported with the packages, notebooks and twins plugins', () => {
    expect(plugins.map(p => p.id)).toEqual([
      'jupyter-marimo-proxy:plugin',
      'jupyter-marimo-proxy:packages',
      'jupyter-marimo-proxy:notebooks',
      'jupyter-marimo-proxy:twins'
    ]);
    expect(plugins[0]).toBe(plugin);
  });

  it('has the documented id and hard-requires nothing', () => {
    expect(plugin.id).toBe('jupyter-marimo-proxy:plugin');
    expect(plugin.requires ?? []).toEqual([]);
    expect(plugin.autoStart).toBe(true);
  });

  it('adds one Marimo tile, a palette item and tab restore', async () => {
    fetchMock.mockImplementation(async () =>
      jsonResponse(200, healthyStatus())
    );
    const { app } = fakeApp();
    const { launcher, items } = fakeLauncher();
    const palette = { addItem: jest.fn() };
    const restorer = { restore: jest.fn().mockResolvedValue(undefined) };

    plugin.activate(app, ...([launcher, palette, restorer, null] as any[]));
    await settle();

    expect(launcher.add).toHaveBeenCalledTimes(1);
    expect(items[0].options).toMatchObject({
      command: CommandIDs.open,
      category: 'Notebook'
    });
    expect(items[0].options.kernelIconUrl).toMatch(/^data:image\/svg\+xml,/);
    expect(app.commands.label(CommandIDs.open, items[0].options.args)).toBe(
      'marimo'
    );

    expect(palette.addItem).toHaveBeenCalledWith(
      expect.objectContaining({ command: CommandIDs.open, category: 'marimo' })
    );
    const paletteArgs = palette.addItem.mock.calls[0][0].args;
    expect(app.commands.label(CommandIDs.open, paletteArgs)).toBe(
      'Open marimo'
    );
    expect(app.commands.caption(CommandIDs.open, {})).toBe(
      'Open marimo’s home (your notebooks and running sessions) in a JupyterLab tab'
    );

    expect(restorer.restore).toHaveBeenCalledTimes(1);
    const [, options] = restorer.restore.mock.calls[0];
    expect(options.command).toBe(CommandIDs.open);
    expect(options.name()).toBe('marimo');
    expect(options.args()).toEqual({ target: 'tab' });

    // The startup check is the only request before anything is opened.
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('opens one marimo tab and re-activates it', async () => {
    fetchMock.mockImplementation(async () =>
      jsonResponse(200, healthyStatus())
    );
    const { app, shell } = fakeApp();
    plugin.activate(app, ...([null, null, null, null] as any[]));
    await settle();

    const first = (await app.commands.execute(CommandIDs.open, {})) as any;
    const second = (await app.commands.execute(CommandIDs.open, {})) as any;
    await settle();

    expect(first).toBe(second);
    expect(first.id).toBe(MARIMO_WIDGET_ID);
    expect(first.title.label).toBe('marimo');
    expect(first.content).toBeInstanceOf(MarimoPanel);
    expect(shell.add).toHaveBeenCalledTimes(1);
    expect(shell.activateById).toHaveBeenCalledTimes(2);
    expect(shell.activateById).toHaveBeenLastCalledWith(MARIMO_WIDGET_ID);
    // Startup check plus one check for the one opened tab.
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(
      document.querySelectorAll('iframe.jp-MarimoProxy-frame')
    ).toHaveLength(1);

    // Closing the tab and opening again makes a fresh one.
    first.dispose();
    const third = (await app.commands.execute(CommandIDs.open, {})) as any;
    expect(third).not.toBe(first);
    expect(third.isAttached).toBe(true);
  });

  it('shows a failed start on the tile, with the reason in its caption', async () => {
    const failed = healthyStatus();
    failed.marimo = {
      ...failed.marimo,
      running: false,
      state: 'failed',
      port: null,
      error: 'marimo exited with code 2 while starting.'
    };
    fetchMock.mockImplementation(async () => jsonResponse(200, failed));
    const { app } = fakeApp();
    const { launcher, items } = fakeLauncher();
    plugin.activate(app, ...([launcher, null, null, null] as any[]));
    await settle();

    // Still one tile, now with the "unavailable" icon.
    expect(items).toHaveLength(2);
    expect(items[0].dispose).toHaveBeenCalled();
    expect(items[1].options.kernelIconUrl).not.toBe(
      items[0].options.kernelIconUrl
    );
    expect(app.commands.caption(CommandIDs.open, {})).toContain(
      'marimo could not start: marimo exited with code 2 while starting. Open it to retry.'
    );
    // JupyterLab shows no caption on the Notebook section's cards: the
    // label (also their tooltip) says it.
    expect(app.commands.label(CommandIDs.open, items[1].options.args)).toBe(
      'marimo (failed to start)'
    );
    expect(app.commands.label(CommandIDs.open, { isPalette: true })).toBe(
      'Open marimo'
    );
  });

  it('follows the shared status: a failure seen elsewhere shows on the tile, and leaves it', async () => {
    const failed = healthyStatus();
    failed.marimo = {
      ...failed.marimo,
      running: false,
      state: 'failed',
      port: null,
      error: 'marimo exited with code 1 while starting.'
    };
    let current = healthyStatus();
    fetchMock.mockImplementation(async () => jsonResponse(200, current));
    const { app } = fakeApp();
    const { launcher, items } = fakeLauncher();
    plugin.activate(app, ...([launcher, null, null, null] as any[]));
    await settle();
    expect(items).toHaveLength(1);
    const healthyIcon = items[0].options.kernelIconUrl;

    // A tab (or the sidebar, or a restart) asks the shared status and
    // finds the start failed: the tile changes, without a request of its own.
    current = failed;
    await marimoStatus.check();
    expect(items).toHaveLength(2);
    expect(items[0].dispose).toHaveBeenCalled();
    expect(items[1].options.kernelIconUrl).not.toBe(healthyIcon);
    expect(app.commands.label(CommandIDs.open, items[1].options.args)).toBe(
      'marimo (failed to start)'
    );

    // marimo runs again: the plain tile is back.
    current = healthyStatus();
    await marimoStatus.check();
    expect(items).toHaveLength(3);
    expect(items[1].dispose).toHaveBeenCalled();
    expect(items[2].options.kernelIconUrl).toBe(healthyIcon);
    expect(app.commands.label(CommandIDs.open, items[2].options.args)).toBe(
      'marimo'
    );
  });

  it('keeps the tile when the server extension is missing and explains in the tab', async () => {
    fetchMock.mockImplementation(async () => jsonResponse(404, 'Not Found'));
    const { app } = fakeApp();
    const { launcher, items } = fakeLauncher();
    plugin.activate(app, ...([launcher, null, null, null] as any[]));
    await settle();

    // The tile is swapped for one with the "unavailable" icon: still one.
    expect(items).toHaveLength(2);
    expect(items[0].dispose).toHaveBeenCalled();
    expect(items[1].dispose).not.toHaveBeenCalled();
    expect(items[1].options.kernelIconUrl).not.toBe(
      items[0].options.kernelIconUrl
    );
    expect(app.commands.label(CommandIDs.open, items[1].options.args)).toBe(
      'marimo (unavailable)'
    );
    expect(app.commands.caption(CommandIDs.open, {})).toContain('not enabled');

    const tab = (await app.commands.execute(CommandIDs.open, {})) as any;
    await tab.content.ready;
    const message = tab.node.querySelector('.jp-MarimoProxy-message');
    expect(message.textContent).toContain(
      'The jupyter-marimo-proxy server extension is not enabled'
    );
    expect(tab.node.querySelector('iframe')).toBeNull();
  });

  it('honours openInNewBrowserTab, except when restoring', async () => {
    fetchMock.mockImplementation(async () =>
      jsonResponse(200, healthyStatus())
    );
    const openMock = jest.spyOn(window, 'open').mockReturnValue(null);
    const settings = {
      composite: { openInNewBrowserTab: true },
      changed: { connect: jest.fn() }
    };
    const registry = { load: jest.fn().mockResolvedValue(settings) };
    const { app, shell } = fakeApp();
    try {
      plugin.activate(app, ...([null, null, null, registry] as any[]));
      await settle();
      expect(registry.load).toHaveBeenCalledWith(PLUGIN_ID);

      const result = await app.commands.execute(CommandIDs.open, {});
      expect(result).toBeNull();
      expect(openMock).toHaveBeenCalledWith(
        'http://localhost/marimo/',
        '_blank',
        expect.stringContaining('noopener')
      );
      expect(shell.add).not.toHaveBeenCalled();

      const restored = (await app.commands.execute(CommandIDs.open, {
        target: 'tab'
      })) as any;
      expect(restored.id).toBe(MARIMO_WIDGET_ID);
      expect(openMock).toHaveBeenCalledTimes(1);
    } finally {
      openMock.mockRestore();
    }
  });

  it('opens the explaining tab instead of a browser tab when the server part is missing', async () => {
    fetchMock.mockImplementation(async () => jsonResponse(404, 'Not Found'));
    const openMock = jest.spyOn(window, 'open').mockReturnValue(null);
    const settings = {
      composite: { openInNewBrowserTab: true },
      changed: { connect: jest.fn() }
    };
    const registry = { load: jest.fn().mockResolvedValue(settings) };
    const { app } = fakeApp();
    try {
      plugin.activate(app, ...([null, null, null, registry] as any[]));
      await settle();
      const tab = (await app.commands.execute(CommandIDs.open, {})) as any;
      expect(openMock).not.toHaveBeenCalled();
      expect(tab.id).toBe(MARIMO_WIDGET_ID);
    } finally {
      openMock.mockRestore();
    }
  });
});
