/**
 * Issue #12 in unit tests: where marimo's links lead, the frame hooks
 * (new windows, theme), what the panel shows while marimo starts or when
 * it could not, the recovery watcher and the Running sidebar's section.
 */
import { PageConfig } from '@jupyterlab/coreutils';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import * as frameModule from '../notebooks/frame';
import {
  applyTheme,
  classifyMarimoUrl,
  frameContent,
  guardKernelSockets,
  hookNewWindows,
  importantLines,
  opensNewWindow,
  relativeToRoot,
  settingFor,
  withTheme
} from '../notebooks/frame';
import { RecoveryWatcher } from '../notebooks/recovery';
import { MarimoEditorAPI, MarimoRunningManager } from '../notebooks/running';
import { addFrameHooks, MarimoPanel } from '../panel';
import { marimoTabUrl } from '../urls';
import { healthyStatus, jsonResponse } from './fixtures';

const BASE = 'http://localhost:8888/user/a/marimo/';

describe('classifyMarimoUrl', () => {
  const classify = (href: string, root: string | null = '/home/a') =>
    classifyMarimoUrl(href, BASE, '/user/a/', root);

  it('knows marimo home, new notebooks, files and apps', () => {
    expect(classify('/user/a/marimo/')).toEqual({ kind: 'home' });
    expect(classify('?file=__new__s_abc')).toEqual({ kind: 'new' });
    expect(
      classify('http://localhost:8888/user/a/marimo/?file=x%2Fa.py')
    ).toEqual({
      kind: 'file',
      path: 'x/a.py'
    });
    expect(classify('/user/a/marimo/?file=/home/a/b.py')).toEqual({
      kind: 'file',
      path: 'b.py'
    });
    expect(classify('/user/a/marimo-apps/?file=b.py')).toEqual({
      kind: 'app',
      path: 'b.py'
    });
    expect(classify('/user/a/marimo/?file=b.py&view-as=present')).toEqual({
      kind: 'app',
      path: 'b.py'
    });
  });

  it('leaves everything else alone', () => {
    expect(classify('https://docs.marimo.io')).toBeNull();
    expect(
      classify('http://elsewhere:8888/user/a/marimo/?file=a.py')
    ).toBeNull();
    expect(classify('/user/b/marimo/?file=a.py')).toBeNull();
    expect(classify('/user/a/marimo/api/export?file=a.py')).toBeNull();
    expect(classify('/user/a/marimo/?file=/etc/passwd')).toBeNull();
    expect(relativeToRoot('/etc/x.py', null)).toBeNull();
  });
});

describe('frame hooks', () => {
  function frameWithPage(html: string): HTMLIFrameElement {
    const iframe = document.createElement('iframe');
    document.body.appendChild(iframe);
    iframe.contentDocument!.body.innerHTML = html;
    return iframe;
  }

  it('sends new windows into our routes to the handler, others to the browser', () => {
    const iframe = frameWithPage(
      '<a id="file" href="/marimo/?file=a.py" target="s_1-a.py">a</a>' +
        '<a id="same" href="/marimo/?file=b.py">b</a>'
    );
    const original = jest.fn(() => null);
    (iframe.contentWindow as any).open = original;
    const handled: string[] = [];
    hookNewWindows(iframe, href => {
      handled.push(href);
      return href.includes('/marimo/');
    });
    iframe.contentWindow!.open('/marimo/?file=__new__x', '_blank');
    iframe.contentWindow!.open('https://docs.marimo.io', '_blank');
    expect(original).toHaveBeenCalledTimes(1);
    expect(original).toHaveBeenCalledWith(
      'https://docs.marimo.io',
      '_blank',
      undefined
    );

    const click = (id: string) => {
      const event = new MouseEvent('click', {
        bubbles: true,
        cancelable: true
      });
      iframe.contentDocument!.getElementById(id)!.dispatchEvent(event);
      return event.defaultPrevented;
    };
    expect(click('file')).toBe(true);
    // A link that navigates the frame itself is marimo's business.
    expect(click('same')).toBe(false);
    expect(handled).toHaveLength(3);
    iframe.remove();
  });

  it('lets marimo open its kernel websocket only when allowed', () => {
    const iframe = frameWithPage('');
    const opened: string[] = [];
    (iframe.contentWindow as any).WebSocket = function (url: string) {
      opened.push(url);
    };
    let allow = false;
    guardKernelSockets(iframe, () => allow);
    const Socket = (iframe.contentWindow as any).WebSocket;
    // The page's first connection is never held up.
    new Socket('ws://localhost/marimo/ws?session_id=s_1');
    new Socket('ws://localhost/marimo/_jmp_q/abc/ws');
    new Socket('ws://localhost/marimo/lsp/copilot');
    expect(opened[0]).toBe('ws://localhost/marimo/ws?session_id=s_1');
    expect(opened[1]).toMatch(/\/jupyter-marimo-proxy-wait$/);
    expect(opened[2]).toBe('ws://localhost/marimo/lsp/copilot');
    allow = true;
    new Socket('ws://localhost/marimo/ws?session_id=s_1');
    expect(opened[3]).toBe('ws://localhost/marimo/ws?session_id=s_1');
    iframe.remove();
  });

  it('reads window targets', () => {
    expect(opensNewWindow('_blank')).toBe(true);
    expect(opensNewWindow('s_abc-x.py')).toBe(true);
    expect(opensNewWindow('_self')).toBe(false);
    expect(opensNewWindow('')).toBe(false);
  });

  it('gives marimo the theme by URL and by its body attribute', () => {
    expect(withTheme('/marimo/?file=a.py', 'dark')).toBe(
      '/marimo/?file=a.py&theme=dark'
    );
    expect(withTheme('/marimo/', 'light')).toBe('/marimo/?theme=light');
    expect(withTheme('/marimo/', null)).toBe('/marimo/');
    const iframe = frameWithPage('');
    applyTheme(iframe, 'dark');
    expect(iframe.contentDocument!.body.dataset.vscodeThemeKind).toBe(
      'vscode-dark'
    );
    applyTheme(iframe, 'light');
    expect(iframe.contentDocument!.body.dataset.vscodeThemeKind).toBe(
      'vscode-light'
    );
    iframe.remove();
  });

  it('tells marimo from the launcher’s failure page', () => {
    const loading = frameWithPage(
      '<marimo-version></marimo-version><div id="root"></div>'
    );
    expect(frameContent(loading).kind).toBe('loading');
    const ready = frameWithPage(
      '<marimo-version></marimo-version><marimo-server-token data-token="t1"></marimo-server-token>' +
        '<div id="root"><div>home</div></div>'
    );
    expect(frameContent(ready)).toEqual({ kind: 'marimo', serverToken: 't1' });
    const failed = frameWithPage(
      '<p id="marimo-proxy-error">marimo did not answer within 60 seconds.</p><pre id="marimo-proxy-log">a\nTraceback x\nb</pre>'
    );
    expect(frameContent(failed)).toEqual({
      kind: 'failed',
      error: 'marimo did not answer within 60 seconds.',
      log: 'a\nTraceback x\nb'
    });
    [loading, ready, failed].forEach(frame => frame.remove());
  });

  it('names the setting and the log lines that matter', () => {
    expect(settingFor('marimo did not answer within 60 seconds.')).toBe(
      'c.MarimoProxy.startup_timeout'
    );
    expect(settingFor('Could not create the venv at /x')).toBe(
      'c.MarimoProxy.base_python'
    );
    expect(settingFor('marimo exited with code 1')).toBe(
      'c.MarimoProxy.extra_marimo_args'
    );
    const log = [
      'ValueError: early',
      ...Array.from({ length: 20 }, (_, i) => `line ${i}`)
    ].join('\n');
    const lines = importantLines(log).split('\n');
    expect(lines[0]).toBe('ValueError: early');
    expect(lines[lines.length - 1]).toBe('line 19');
    expect(importantLines('(empty)')).toBe('');
  });
});

describe('MarimoPanel start-up feedback', () => {
  let fetchMock: jest.SpyInstance;
  let panel: MarimoPanel | null = null;

  beforeEach(() => {
    fetchMock = jest.spyOn(globalThis, 'fetch');
  });

  afterEach(() => {
    panel?.dispose();
    panel = null;
    fetchMock.mockRestore();
  });

  it('keeps "Starting marimo…" over the frame until marimo renders, then calls the ready hooks', async () => {
    const status = healthyStatus();
    status.venv.exists = false;
    fetchMock.mockResolvedValue(jsonResponse(200, status));
    const ready = jest.fn();
    const hooks = addFrameHooks({ url: url => `${url}?theme=dark`, ready });
    panel = new MarimoPanel({ url: marimoTabUrl(PageConfig.getBaseUrl()) });
    Widget.attach(panel, document.body);
    await panel.ready;
    const iframe = panel.iframe!;
    expect(iframe.getAttribute('src')).toContain('theme=dark');
    const starting = panel.node.querySelector('.jp-MarimoProxy-starting');
    expect(starting?.textContent).toContain('Starting marimo');
    expect(starting?.textContent).toContain('first use');
    // (jsdom loads no page into the frame: what it shows is simulated.)
    const content = jest
      .spyOn(frameModule, 'frameContent')
      .mockReturnValue({ kind: 'marimo', serverToken: 't' });
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(panel.node.querySelector('.jp-MarimoProxy-starting')).toBeNull();
    expect(panel.frameReady).toBe(true);
    expect(ready).toHaveBeenCalledWith(iframe, panel);
    hooks.dispose();
    content.mockRestore();
  });

  it('turns the launcher’s failure page into a message with the setting and Retry', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, healthyStatus()));
    panel = new MarimoPanel({ url: marimoTabUrl(PageConfig.getBaseUrl()) });
    Widget.attach(panel, document.body);
    await panel.ready;
    const content = jest.spyOn(frameModule, 'frameContent').mockReturnValue({
      kind: 'failed',
      error: 'marimo did not answer within 60 seconds.',
      log: 'Traceback\nOSError: boom'
    });
    await new Promise(resolve => setTimeout(resolve, 500));
    content.mockRestore();
    const message = panel.node.querySelector('.jp-MarimoProxy-message');
    expect(message?.textContent).toContain('marimo could not start');
    expect(message?.textContent).toContain('c.MarimoProxy.startup_timeout');
    expect(
      message?.querySelector('.jp-MarimoProxy-messageDetail')?.textContent
    ).toContain('OSError: boom');
    expect(message?.querySelector('button')?.textContent).toBe('Retry');
    expect(panel.state).toBe('failing');
  });
});

describe('MarimoPanel.reconnect', () => {
  let fetchMock: jest.SpyInstance;

  beforeEach(() => {
    fetchMock = jest.spyOn(globalThis, 'fetch');
    // A fresh answer per request: a body is read once.
    fetchMock.mockImplementation(async () =>
      jsonResponse(200, healthyStatus())
    );
  });

  afterEach(() => fetchMock.mockRestore());

  it('says in one line that marimo stopped, with a button that starts it again', async () => {
    const panel = new MarimoPanel({
      url: marimoTabUrl(PageConfig.getBaseUrl())
    });
    Widget.attach(panel, document.body);
    await panel.ready;
    panel.reconnect('stopped');
    panel.reconnect('stopped');
    const notices = panel.node.querySelectorAll('.jp-MarimoProxy-notice');
    expect(notices).toHaveLength(1);
    expect(notices[0].textContent).toContain('marimo has stopped.');
    const calls = fetchMock.mock.calls.length;
    (notices[0].querySelector('button') as HTMLButtonElement).click();
    await panel.ready;
    expect(fetchMock.mock.calls.length).toBe(calls + 1);
    expect(panel.node.querySelector('.jp-MarimoProxy-notice')).toBeNull();
    panel.dispose();
  });

  it('reloads at once when a new marimo runs', async () => {
    const panel = new MarimoPanel({
      url: marimoTabUrl(PageConfig.getBaseUrl())
    });
    Widget.attach(panel, document.body);
    await panel.ready;
    const before = panel.iframe;
    panel.reconnect('running');
    await panel.ready;
    expect(panel.iframe).not.toBe(before);
    expect(panel.iframe).not.toBeNull();
    panel.dispose();
  });
});

describe('RecoveryWatcher', () => {
  it('reloads a tab when its marimo was replaced, and says so when it stopped', async () => {
    let answer: Record<string, any> = {
      marimo: { state: 'running', instance: '1:1', error: null }
    };
    const request = jest.fn(async () => answer) as any;
    const watcher = new RecoveryWatcher(request, 60000);
    const panel = {
      route: 'marimo',
      frameReady: true,
      instance: null as string | null,
      isDisposed: false,
      disposed: { connect: jest.fn() },
      reconnect: jest.fn()
    };
    await watcher.track(panel as any);
    expect(panel.instance).toBe('1:1');

    answer = { marimo: { state: 'starting', instance: null, error: null } };
    await watcher.check();
    expect(panel.reconnect).not.toHaveBeenCalled();

    answer = { marimo: { state: 'stopped', instance: null, error: null } };
    await watcher.check();
    expect(panel.reconnect).toHaveBeenLastCalledWith('stopped', null);

    answer = { marimo: { state: 'running', instance: '2:2', error: null } };
    await watcher.check();
    expect(panel.reconnect).toHaveBeenLastCalledWith('running', null);
    // Tracked again once its new frame shows marimo.
    panel.reconnect.mockClear();
    await watcher.check();
    expect(panel.reconnect).not.toHaveBeenCalled();
  });
});

describe('RecoveryWatcher.mayReconnect', () => {
  it('refuses a tracked page’s reconnection until the server says its marimo still runs', async () => {
    let answer: Record<string, any> = {
      marimo: { state: 'running', instance: '1:1', error: null }
    };
    const request = jest.fn(async () => answer) as any;
    const watcher = new RecoveryWatcher(request, 60000);
    const panel = {
      route: 'marimo',
      frameReady: true,
      instance: null as string | null,
      isDisposed: false,
      disposed: { connect: jest.fn() },
      reconnect: jest.fn()
    };
    // Not tracked yet: its first connection passes.
    expect(watcher.mayReconnect(panel as any)).toBe(true);
    await watcher.track(panel as any);
    // Tracked: a new connection is a reconnection, refused first.
    answer = { marimo: { state: 'starting', instance: null, error: null } };
    expect(watcher.mayReconnect(panel as any)).toBe(false);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(watcher.mayReconnect(panel as any)).toBe(false);
    // The same marimo answers (a blip): the next attempt passes.
    answer = { marimo: { state: 'running', instance: '1:1', error: null } };
    await watcher.check();
    expect(watcher.mayReconnect(panel as any)).toBe(true);
    expect(panel.reconnect).not.toHaveBeenCalled();
  });
});

describe('MarimoRunningManager', () => {
  it('lists marimo’s notebooks and the open apps, and shuts a notebook down by its current session', async () => {
    const api = {
      runningNotebooks: jest
        .fn()
        .mockResolvedValue([
          { name: 'a.py', path: 'x/a.py', sessionId: 's_2' }
        ]),
      shutdown: jest.fn().mockResolvedValue(undefined)
    } as unknown as MarimoEditorAPI;
    const request = jest.fn(async () => ({
      marimo: { state: 'running', instance: '1:1', error: null }
    })) as any;
    const openNotebook = jest.fn();
    const close = jest.fn();
    const manager = new MarimoRunningManager(
      {
        icon: new LabIcon({ name: 'test:marimo', svgstr: '<svg></svg>' }),
        openNotebook,
        apps: () => [{ path: 'b.py', open: jest.fn(), close }],
        rootDir: () => null
      },
      api,
      request
    );
    await manager.refreshRunning();
    const items = manager.running();
    expect(items.map(item => item.label())).toEqual(['a.py', 'b.py']);
    items[0].open!();
    expect(openNotebook).toHaveBeenCalledWith('x/a.py');
    items[0].shutdown!();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(api.shutdown).toHaveBeenCalledWith('s_2');
    items[1].shutdown!();
    expect(close).toHaveBeenCalled();
  });

  it('does not ask (or start) marimo when it is not running', async () => {
    const api = { runningNotebooks: jest.fn() } as unknown as MarimoEditorAPI;
    const request = jest.fn(async () => ({
      marimo: { state: 'stopped', instance: null, error: null }
    })) as any;
    const manager = new MarimoRunningManager(
      {
        icon: new LabIcon({ name: 'test:marimo2', svgstr: '<svg></svg>' }),
        openNotebook: jest.fn(),
        apps: () => [],
        rootDir: () => null
      },
      api,
      request
    );
    await manager.refreshRunning();
    expect(api.runningNotebooks).not.toHaveBeenCalled();
    expect(manager.running()).toEqual([]);
  });
});

describe('focusFirstEmptyCell', () => {
  /** A marimo-like cell with a focusable editor holding `code`. */
  const addCell = (doc: Document, code: string): HTMLElement => {
    const cell = doc.createElement('div');
    cell.className = 'marimo-cell';
    const wrapper = doc.createElement('div');
    wrapper.setAttribute('data-testid', 'cell-editor');
    const content = doc.createElement('div');
    content.className = 'cm-content';
    content.tabIndex = 0; // CodeMirror's is contenteditable; jsdom focuses by tabindex
    content.textContent = code;
    wrapper.appendChild(content);
    cell.appendChild(wrapper);
    doc.body.appendChild(cell);
    return content;
  };

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('moves the cursor off `import marimo` into the empty cell within one short poll', async () => {
    const iframe = document.createElement('iframe');
    document.body.appendChild(iframe);
    const doc = iframe.contentDocument!;
    // marimo renders the first cell and puts the cursor in it.
    const first = addCell(doc, 'import marimo as mo');
    first.focus();
    const found = frameModule.focusFirstEmptyCell(iframe, 5000);
    await jest.advanceTimersByTimeAsync(100);
    expect(doc.activeElement).toBe(first); // no empty cell yet: left alone
    const empty = addCell(doc, '');
    // One poll (50 ms) later the cursor is in the empty cell: keys typed
    // from then on land there, not in `import marimo as mo`.
    await jest.advanceTimersByTimeAsync(60);
    expect(doc.activeElement).toBe(empty);
    // marimo takes the cursor back while the page settles: it is held.
    first.focus();
    await jest.advanceTimersByTimeAsync(120);
    expect(doc.activeElement).toBe(empty);
    await jest.advanceTimersByTimeAsync(2000);
    await expect(found).resolves.toBe(true);
    iframe.remove();
  });

  it('waits for the cells to stop appearing when none has text yet', async () => {
    const iframe = document.createElement('iframe');
    document.body.appendChild(iframe);
    const doc = iframe.contentDocument!;
    const loading = addCell(doc, ''); // an editor still loading looks empty too
    const found = frameModule.focusFirstEmptyCell(iframe, 5000);
    await jest.advanceTimersByTimeAsync(100);
    expect(doc.activeElement).not.toBe(loading); // not settled: no guess yet
    loading.textContent = 'import marimo as mo';
    const empty = addCell(doc, '');
    await jest.advanceTimersByTimeAsync(60);
    expect(doc.activeElement).toBe(empty);
    await jest.advanceTimersByTimeAsync(2000);
    await expect(found).resolves.toBe(true);
    iframe.remove();
  });
});
