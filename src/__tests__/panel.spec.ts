import { PageConfig } from '@jupyterlab/coreutils';
import { Widget } from '@lumino/widgets';

import { createMarimoTab, MarimoPanel, SANDBOX } from '../panel';
import { MISSING_MESSAGE } from '../status';
import { marimoStatus } from '../statusStore';
import { IStatusCheck, MARIMO_WIDGET_ID } from '../tokens';
import { marimoTabUrl } from '../urls';
import { apiError } from './fakeServer';
import { healthyStatus, jsonResponse } from './fixtures';

describe('MarimoPanel', () => {
  let fetchMock: jest.SpyInstance;
  let panel: MarimoPanel | null = null;
  const url = marimoTabUrl(PageConfig.getBaseUrl());

  beforeEach(() => {
    fetchMock = jest.spyOn(globalThis, 'fetch');
  });

  afterEach(() => {
    panel?.dispose();
    panel = null;
    fetchMock.mockRestore();
  });

  function open(): MarimoPanel {
    panel = new MarimoPanel({ url });
    Widget.attach(panel, document.body);
    return panel;
  }

  function frames(p: MarimoPanel): HTMLIFrameElement[] {
    return Array.from(p.node.querySelectorAll('iframe'));
  }

  it('opens the editor at {base}marimo/', () => {
    expect(url).toBe('http://localhost/marimo/');
  });

  it('says it is starting while the status request runs', async () => {
    let answer: (response: Response) => void = () => undefined;
    fetchMock.mockReturnValue(
      new Promise<Response>(resolve => {
        answer = resolve;
      })
    );
    const p = open();
    expect(p.state).toBe('checking');
    const message = p.node.querySelector('.jp-MarimoProxy-message');
    expect(message?.textContent).toContain('Starting marimo');
    expect(frames(p)).toHaveLength(0);

    answer(jsonResponse(200, healthyStatus()));
    await p.ready;
    expect(p.node.querySelector('.jp-MarimoProxy-message')).toBeNull();
  });

  it('shows marimo in a sandboxed iframe when the server is healthy', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, healthyStatus()));
    const p = open();
    const check = await p.ready;

    expect(check.kind).toBe('ok');
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const request = fetchMock.mock.calls[0][0] as Request;
    expect(request.url).toMatch(
      /^http:\/\/localhost\/jupyter-marimo-proxy\/status/
    );

    const iframes = frames(p);
    expect(iframes).toHaveLength(1);
    const iframe = iframes[0];
    expect(iframe.classList).toContain('jp-MarimoProxy-frame');
    expect(iframe.getAttribute('src')).toBe('http://localhost/marimo/');
    expect(iframe.getAttribute('sandbox')!.split(' ').sort()).toEqual(
      [...SANDBOX].sort()
    );
    expect(iframe.getAttribute('sandbox')).toContain('allow-same-origin');
    expect(iframe.getAttribute('sandbox')).toContain('allow-scripts');
    expect(iframe.getAttribute('referrerpolicy')).toBe('no-referrer');
    expect(p.node.dataset.status).toBe('ok');
    expect(p.node.querySelector('.jp-MarimoProxy-message')).toBeNull();
    expect(p.node.querySelector('.jp-MarimoProxy-warning')).toBeNull();
  });

  it('shows warnings above the editor when the venv needs repair', async () => {
    const status = healthyStatus();
    status.venv.healthy = false;
    status.venv.problems = ['python symlink is broken'];
    fetchMock.mockResolvedValue(jsonResponse(200, status));
    const p = open();
    await p.ready;

    const warning = p.node.querySelector('.jp-MarimoProxy-warning');
    expect(warning?.textContent).toContain('python symlink is broken');
    expect(frames(p)).toHaveLength(1);

    (warning!.querySelector('button') as HTMLButtonElement).click();
    expect(p.node.querySelector('.jp-MarimoProxy-warning')).toBeNull();
    expect(frames(p)).toHaveLength(1);
  });

  it('explains a missing server extension instead of loading a frame', async () => {
    fetchMock.mockResolvedValue(
      jsonResponse(404, '<html>404: Not Found</html>')
    );
    const p = open();
    const check = await p.ready;

    expect(check.kind).toBe('missing');
    expect(frames(p)).toHaveLength(0);
    const message = p.node.querySelector('.jp-MarimoProxy-message');
    expect(message).not.toBeNull();
    expect(message!.classList).toContain('jp-mod-missing');
    expect(message!.textContent).toContain(
      'The jupyter-marimo-proxy server extension is not enabled'
    );
    const codes = Array.from(message!.querySelectorAll('code')).map(
      code => code.textContent
    );
    expect(codes).toContain('jupyter server extension list');
    expect(message!.textContent).toBe(
      check.title + MISSING_MESSAGE.split('`').join('') + 'Check again'
    );
  });

  it('shows the error with a Retry button that checks again', async () => {
    fetchMock
      .mockResolvedValueOnce(
        jsonResponse(500, { message: 'boom: venv broken' })
      )
      .mockResolvedValueOnce(jsonResponse(200, healthyStatus()));
    const p = open();
    const first = await p.ready;

    expect(first.kind).toBe('failing');
    expect(frames(p)).toHaveLength(0);
    const message = p.node.querySelector('.jp-MarimoProxy-message')!;
    expect(message.classList).toContain('jp-mod-failing');
    expect(message.textContent).toContain('HTTP 500');
    expect(
      message.querySelector('.jp-MarimoProxy-messageDetail')!.textContent
    ).toBe('boom: venv broken');

    const retry = message.querySelector(
      '.jp-MarimoProxy-retry'
    ) as HTMLButtonElement;
    expect(retry.textContent).toBe('Retry');
    retry.click();
    const second = await p.ready;

    expect(second.kind).toBe('ok');
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(frames(p)).toHaveLength(1);
  });

  it('shows a network failure as a message, not a blank frame', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    const p = open();
    const check = await p.ready;
    expect(check.kind).toBe('failing');
    expect(frames(p)).toHaveLength(0);
    expect(
      p.node.querySelector('.jp-MarimoProxy-message')!.textContent
    ).toContain('Could not reach the Jupyter server');
  });

  it('escapes server text instead of rendering it as HTML', async () => {
    fetchMock.mockResolvedValue(
      jsonResponse(500, { message: '<img src=x onerror=alert(1)>' })
    );
    const p = open();
    await p.ready;
    expect(p.node.querySelector('img')).toBeNull();
    expect(p.node.textContent).toContain('<img src=x onerror=alert(1)>');
  });

  it('ignores a check overtaken by a newer one', async () => {
    const answers: ((check: IStatusCheck) => void)[] = [];
    const checkStatus = () =>
      new Promise<IStatusCheck>(resolve => answers.push(resolve));
    panel = new MarimoPanel({ url, checkStatus });
    const p = panel;
    const first = p.ready;
    const second = p.refresh();
    const ok: IStatusCheck = {
      kind: 'ok',
      title: '',
      message: '',
      detail: null,
      warnings: [],
      httpStatus: 200,
      status: healthyStatus()
    };
    answers[1](ok);
    await second;
    answers[0]({ ...ok, kind: 'failing', status: null });
    await first;
    expect(p.state).toBe('ok');
    expect(p.lastCheck).toBe(ok);
  });

  it('emits the outcome of each check', async () => {
    fetchMock.mockResolvedValue(jsonResponse(404, ''));
    const seen: string[] = [];
    panel = new MarimoPanel({ url });
    panel.statusChecked.connect((_, check) => seen.push(check.kind));
    await panel.ready;
    expect(seen).toEqual(['missing']);
  });

  it('checks through the shared status, which the tile and the sidebar follow', async () => {
    const failed = healthyStatus();
    failed.marimo = { ...failed.marimo, state: 'failed', running: false };
    fetchMock.mockResolvedValue(jsonResponse(200, failed));
    const seen: string[] = [];
    const listen = (_: unknown, check: IStatusCheck) =>
      seen.push(check.status!.marimo.state);
    marimoStatus.changed.connect(listen);
    try {
      const p = open();
      const check = await p.ready;
      expect(marimoStatus.latest).toBe(check);
      expect(seen).toEqual(['failed']);
    } finally {
      marimoStatus.changed.disconnect(listen);
    }
  });

  it('says when a start ended under the frame (marimo gone, failed to start again)', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, healthyStatus()));
    const ended: string[] = [];
    panel = new MarimoPanel({
      url,
      checkStatus: async () => ({
        kind: 'ok',
        title: 'marimo is available',
        message: '',
        detail: null,
        warnings: [],
        httpStatus: 200,
        status: healthyStatus()
      }),
      startEnded: () => ended.push('ended')
    });
    Widget.attach(panel, document.body);
    await panel.ready;
    panel.reconnect('failed', 'marimo exited with code 1 while starting.');
    expect(
      panel.node.querySelector('.jp-MarimoProxy-notice')!.textContent
    ).toContain(
      'marimo stopped and could not start again: marimo exited with code 1 while starting.'
    );
    // The shared status asks again, so that the tile and the sidebar follow.
    expect(ended).toEqual(['ended']);
    // One notice, one ask: the same news twice changes nothing.
    panel.reconnect('failed', 'marimo exited with code 1 while starting.');
    expect(ended).toEqual(['ended']);
  });
});

describe('MarimoPanel on a notebook', () => {
  const ok: IStatusCheck = {
    kind: 'ok',
    title: '',
    message: '',
    detail: null,
    warnings: [],
    httpStatus: 200,
    status: healthyStatus()
  };

  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('asks where the notebook is after the status check, on every refresh', async () => {
    const locate = jest
      .fn()
      .mockResolvedValueOnce('/marimo/?file=a.marimo.py')
      .mockResolvedValueOnce('/marimo/?file=b.marimo.py');
    const onFrame = jest.fn();
    const p = new MarimoPanel({
      locate,
      onFrame,
      checkStatus: async () => ok,
      frameTitle: 'marimo app: a.marimo.py'
    });
    Widget.attach(p, document.body);
    expect(p.url).toBe('');
    await p.ready;
    const iframe = p.node.querySelector('iframe')!;
    expect(iframe.getAttribute('src')).toBe('/marimo/?file=a.marimo.py');
    expect(iframe.title).toBe('marimo app: a.marimo.py');
    expect(p.url).toBe('/marimo/?file=a.marimo.py');
    expect(onFrame).toHaveBeenCalledWith(iframe);

    await p.refresh();
    expect(locate).toHaveBeenCalledTimes(2);
    expect(p.node.querySelector('iframe')!.getAttribute('src')).toBe(
      '/marimo/?file=b.marimo.py'
    );
    expect(onFrame).toHaveBeenCalledTimes(2);
    p.dispose();
  });

  it("shows the server's reason when the file cannot be opened, with Retry", async () => {
    const locate = jest
      .fn()
      .mockRejectedValueOnce(
        apiError(400, {
          message: 'x.py is not a marimo notebook (no `app = marimo.App(...)`).'
        })
      )
      .mockResolvedValueOnce('/marimo/?file=x.py');
    const p = new MarimoPanel({
      locate,
      checkStatus: async () => ok,
      locateFailedTitle: 'marimo cannot open x.py'
    });
    Widget.attach(p, document.body);
    await p.ready;
    expect(p.state).toBe('failing');
    expect(p.node.querySelector('iframe')).toBeNull();
    const message = p.node.querySelector('.jp-MarimoProxy-message')!;
    expect(message.querySelector('h2')!.textContent).toBe(
      'marimo cannot open x.py'
    );
    expect(message.querySelector('code')!.textContent).toBe(
      'app = marimo.App(...)'
    );

    message.querySelector<HTMLButtonElement>('.jp-MarimoProxy-retry')!.click();
    await p.ready;
    expect(p.state).toBe('ok');
    expect(p.node.querySelector('iframe')!.getAttribute('src')).toBe(
      '/marimo/?file=x.py'
    );
    p.dispose();
  });

  it('does not ask where the notebook is when the server part is missing', async () => {
    const locate = jest.fn();
    const p = new MarimoPanel({
      locate,
      checkStatus: async () => ({ ...ok, kind: 'missing', status: null })
    });
    await p.ready;
    expect(locate).not.toHaveBeenCalled();
    expect(p.state).toBe('missing');
    p.dispose();
  });
});

describe('createMarimoTab', () => {
  it('makes one closable tab titled marimo', async () => {
    const fetchMock = jest
      .spyOn(globalThis, 'fetch')
      .mockResolvedValue(jsonResponse(200, healthyStatus()));
    const tab = createMarimoTab({ url: 'http://localhost/marimo/' });
    try {
      expect(tab.id).toBe(MARIMO_WIDGET_ID);
      expect(tab.title.label).toBe('marimo');
      expect(tab.title.closable).toBe(true);
      expect(tab.title.icon).toBeTruthy();
      await tab.content.ready;
      expect(fetchMock).toHaveBeenCalledTimes(1);
    } finally {
      tab.dispose();
      fetchMock.mockRestore();
    }
  });
});
