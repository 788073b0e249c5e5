import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { NotebooksAPI } from '../notebooks/api';
import { MarimoAppTab } from '../notebooks/widgets';
import { PackagesAPI } from '../packages/api';
import { NOT_RUNNING, PackagesModel } from '../packages/model';
import { connectNotifications, FAILURE_AUTOCLOSE } from '../packages/notify';
import {
  packagesPlugin,
  reloadMarimoTab,
  SIDEBAR_CAPTION,
  SIDEBAR_RANK
} from '../packages/plugin';
import { PackagesSidebar } from '../packages/sidebar';
import { createMarimoTab } from '../panel';
import { CommandIDs, MARIMO_WIDGET_ID, PACKAGES_WIDGET_ID } from '../tokens';
import { deferred, fails, healthyServer, job, until } from './fakeServer';
import { healthyStatus, jsonResponse } from './fixtures';

function latest(): Notification.INotification {
  return Notification.manager.notifications[0];
}

describe('connectNotifications', () => {
  let model: PackagesModel;
  let connection: { dispose(): void };

  afterEach(() => {
    connection?.dispose();
    model?.dispose();
    sidebarVisible = false;
    Notification.dismiss();
  });

  let sidebarVisible = false;

  function connect(server = healthyServer(), showSidebar = jest.fn()) {
    model = new PackagesModel({
      api: new PackagesAPI(server.request),
      retryDelay: 0,
      idleDelay: 0
    });
    connection = connectNotifications(model, {
      showSidebar,
      sidebarVisible: () => sidebarVisible
    });
    return showSidebar;
  }

  it('announces a finished install with the job message', async () => {
    connect(
      healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', () =>
          job({
            state: 'succeeded',
            message: 'Installed jmp-live: installed jmp-live 1.0.'
          })
        )
    );
    await model.install(['jmp-live']);
    await until(() => Notification.manager.count > 0, 'a notification');
    expect(latest().type).toBe('success');
    expect(latest().message).toBe(
      'Installed jmp-live: installed jmp-live 1.0.'
    );
  });

  it('keeps a failure on screen with a way to the log', async () => {
    const showSidebar = connect(
      healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', () =>
          job({
            state: 'failed',
            exit_code: 1,
            message: 'Could not install jmp-live (exit code 1): no match'
          })
        )
    );
    await model.install(['jmp-live']);
    await until(() => Notification.manager.count > 0, 'a notification');
    expect(latest().type).toBe('error');
    expect(latest().message).toBe(
      'Could not install jmp-live (exit code 1): no match'
    );
    // Long enough to read, never for good.
    expect(latest().options.autoClose).toBe(FAILURE_AUTOCLOSE);
    const action = latest().options.actions![0];
    expect(action.label).toBe('Show log');
    action.callback(new MouseEvent('click'));
    expect(showSidebar).toHaveBeenCalled();
  });

  it('shows a refused spec', async () => {
    connect(
      healthyServer().on(
        'POST',
        'packages',
        fails(400, { message: 'bad spec' })
      )
    );
    await model.install(['-e .']);
    expect(latest().type).toBe('error');
    expect(latest().message).toBe('bad spec');
  });

  it('turns "Restarting marimo…" into the outcome', async () => {
    const answer = deferred<unknown>();
    connect(healthyServer().on('POST', 'restart', () => answer.promise));
    const done = model.restart();
    expect(Notification.manager.count).toBe(1);
    expect(latest().type).toBe('in-progress');
    expect(latest().message).toBe('Restarting marimo…');
    const id = latest().id;

    answer.resolve(healthyStatus().marimo);
    await done;
    // The spinner ends with the restart; one notification says how.
    expect(Notification.manager.count).toBe(1);
    expect(Notification.manager.notifications.some(n => n.id === id)).toBe(
      false
    );
    expect(latest().type).toBe('success');
    expect(latest().message).toBe(
      'marimo restarted and is ready (marimo 0.9.0).'
    );
  });

  it('says why a restart failed', async () => {
    connect(
      healthyServer().on(
        'POST',
        'restart',
        fails(409, {
          message:
            'marimo is not running; it starts when you open it from the Launcher.'
        })
      )
    );
    await model.restart();
    expect(Notification.manager.count).toBe(1);
    expect(latest().type).toBe('error');
    expect(latest().message).toBe(NOT_RUNNING);
  });

  it('never leaves "Restarting marimo…" behind, even on a failure', async () => {
    connect(healthyServer().on('POST', 'restart', fails(500, 'boom')));
    await model.restart();
    expect(
      Notification.manager.notifications.filter(n => n.type === 'in-progress')
    ).toHaveLength(0);
  });

  it('says nothing while the sidebar shows the outcome itself', async () => {
    sidebarVisible = true;
    connect(
      healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', () =>
          job({
            state: 'failed',
            exit_code: 1,
            message: 'x is not on the package index'
          })
        )
        .on('POST', 'restart', () => healthyStatus().marimo)
    );
    await model.install(['x']);
    await until(() => model.currentJob?.state === 'failed', 'the failure');
    await model.restart();
    expect(Notification.manager.count).toBe(0);
  });

  it('replaces the last failure instead of piling them up', async () => {
    connect(
      healthyServer().on('POST', 'packages', fails(400, { message: 'bad' }))
    );
    await model.install(['-e .']);
    await model.install(['-e .']);
    await model.install(['-e .']);
    expect(Notification.manager.count).toBe(1);
  });
});

describe('packagesPlugin', () => {
  let fetchMock: jest.SpyInstance;

  beforeEach(() => {
    fetchMock = jest
      .spyOn(globalThis, 'fetch')
      .mockImplementation(async (input: any) => {
        const url = String(input.url ?? input);
        if (url.includes('/restart')) {
          return jsonResponse(200, healthyStatus().marimo);
        }
        if (url.includes('/packages')) {
          return jsonResponse(200, []);
        }
        if (url.includes('/jobs')) {
          return jsonResponse(200, []);
        }
        return jsonResponse(200, healthyStatus());
      });
  });

  afterEach(() => {
    fetchMock.mockRestore();
    Notification.dismiss();
    document.body.innerHTML = '';
  });

  function fakeApp() {
    const commands = new CommandRegistry();
    const main: Widget[] = [];
    const shell = {
      add: jest.fn((widget: Widget, area: string, _options?: unknown) => {
        if (area === 'main') {
          main.push(widget);
        }
        Widget.attach(widget, document.body);
      }),
      activateById: jest.fn(),
      widgets: jest.fn(function* (area?: string) {
        if (area === 'main') {
          yield* main;
        }
      })
    };
    return { app: { commands, shell } as unknown as JupyterFrontEnd, shell };
  }

  it('adds the sidebar on the left with its own icon and tooltip', () => {
    const { app, shell } = fakeApp();
    const restorer = { add: jest.fn() };
    const palette = { addItem: jest.fn() };
    packagesPlugin.activate(app, palette, restorer);

    const [widget, area, options] = shell.add.mock.calls[0];
    expect(widget).toBeInstanceOf(PackagesSidebar);
    expect(area).toBe('left');
    expect(options).toEqual({ rank: SIDEBAR_RANK });
    expect(SIDEBAR_RANK).toBeGreaterThan(1000);
    expect(widget.id).toBe(PACKAGES_WIDGET_ID);
    expect(widget.title.caption).toBe(SIDEBAR_CAPTION);
    expect(SIDEBAR_CAPTION.startsWith('marimo packages')).toBe(true);
    expect(widget.title.icon).toBeTruthy();
    expect(restorer.add).toHaveBeenCalledWith(widget, PACKAGES_WIDGET_ID);

    expect(app.commands.label(CommandIDs.installPackage)).toBe(
      'Install package into marimo venv'
    );
    expect(app.commands.label(CommandIDs.restart)).toBe('Restart marimo');
    expect(app.commands.label(CommandIDs.repair)).toBe('Repair marimo venv');
    expect(palette.addItem.mock.calls.map(c => c[0].command)).toEqual([
      CommandIDs.installPackage,
      CommandIDs.restart,
      CommandIDs.repair
    ]);
  });

  it('opens the sidebar from the palette command', async () => {
    const { app, shell } = fakeApp();
    packagesPlugin.activate(app, null, null);
    await app.commands.execute(CommandIDs.installPackage);
    expect(shell.activateById).toHaveBeenCalledWith(PACKAGES_WIDGET_ID);
  });

  it('reloads the open marimo tab after a successful restart', async () => {
    const { app, shell } = fakeApp();
    const model = packagesPlugin.activate(app, null, null) as PackagesModel;
    const tab = createMarimoTab({ url: 'http://localhost/marimo/' });
    shell.add(tab, 'main');
    await tab.content.ready;
    const refresh = jest.spyOn(tab.content, 'refresh');

    const restarting = app.commands.execute(CommandIDs.restart);
    // A restart ends notebooks: it asks first, Cancel focused.
    await until(
      () => document.querySelector('.jp-Dialog .jp-mod-accept') !== null,
      'the dialog'
    );
    const dialog = document.querySelector('.jp-Dialog')!;
    expect(dialog.textContent).toContain('running marimo notebook');
    expect(document.activeElement?.textContent).toBe('Cancel');
    dialog.querySelector<HTMLButtonElement>('.jp-mod-accept')!.click();
    await restarting;
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(model.lastRestart?.ok).toBe(true);
    expect(tab.id).toBe(MARIMO_WIDGET_ID);
  });

  it('reloads notebook and app tabs too', async () => {
    const { app, shell } = fakeApp();
    const home = createMarimoTab({ url: 'http://localhost/marimo/' });
    const appTab = new MarimoAppTab({
      path: 'a.marimo.py',
      url: '/marimo/?file=a.marimo.py&view-as=present',
      api: new NotebooksAPI()
    });
    shell.add(home, 'main');
    shell.add(appTab, 'main');
    shell.add(new Widget(), 'main');
    await Promise.all([home.content.ready, appTab.content.ready]);
    const refreshes = [
      jest.spyOn(home.content, 'refresh'),
      jest.spyOn(appTab.content, 'refresh')
    ];
    expect(reloadMarimoTab(app.shell)).toBe(true);
    expect(refreshes.map(r => r.mock.calls.length)).toEqual([1, 1]);
  });

  it('finds nothing to reload when no marimo tab is open', () => {
    const { app } = fakeApp();
    expect(reloadMarimoTab(app.shell)).toBe(false);
  });
});
