import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import {
  acceptDialog,
  dangerDialog,
  dismissDialog,
  waitForDialog
} from '@jupyterlab/testing';

import {
  askOtherName,
  confirmOverwrite,
  errorNotice,
  INotebookHost,
  NotebookActions,
  OverwriteAnswer,
  SAVE_AS_LABEL,
  withProgress,
  writeWithConfirm
} from '../notebooks/actions';
import { NotebooksAPI } from '../notebooks/api';
import { apiError, fails, FakeServer } from './fakeServer';

/** What marimo prints when it cannot read a notebook (abridged). */
const MARIMO_TRACEBACK = [
  'marimo could not do it: Traceback (most recent call last):',
  '  File "<frozen runpy>", line 198, in _run_module_as_main',
  '  File ".../marimo/_convert/ipynb/to_ir.py", line 1532, in convert_from_ipynb_to_notebook_ir',
  '    notebook = json.loads(raw_notebook)',
  'json.decoder.JSONDecodeError: Expecting value: line 2 column 1 (char 12)'
].join('\n');

const NOT_MARIMO =
  'plain.py is not a marimo notebook (no `app = marimo.App(...)`).';

const REPLACE: OverwriteAnswer = { action: 'replace' };
const CANCEL: OverwriteAnswer = { action: 'cancel' };

function fakeHost(confirm = true) {
  return {
    confirmOverwrite: jest.fn(async (): Promise<OverwriteAnswer> =>
      confirm ? REPLACE : CANCEL
    ),
    openInMarimo: jest.fn(async () => undefined),
    openDocument: jest.fn(async () => undefined),
    openApp: jest.fn(),
    refreshFileBrowser: jest.fn(async () => undefined)
  } satisfies INotebookHost;
}

function latest(): Notification.INotification {
  return Notification.manager.notifications[0];
}

afterEach(() => {
  Notification.dismiss();
  document.body.innerHTML = '';
});

describe('NotebooksAPI', () => {
  it('sends paths as the server expects them', async () => {
    const server = new FakeServer()
      .on('POST', 'convert', () => ({ path: 'sub/a b.marimo.py' }))
      .on('POST', 'export', () => ({ path: 'x.ipynb' }))
      .on('POST', 'new', () => ({ path: 'untitled.marimo.py' }))
      .on('GET', 'notebook-url', () => ({ url: '/base/marimo/?file=x' }));
    const api = new NotebooksAPI(server.request);

    await api.convert('sub/a b.ipynb');
    await api.convert('sub/a b.ipynb', true);
    await api.convert('sub/a b.ipynb', false, 'sub/c.py');
    await api.exportToIpynb('x.marimo.py');
    await api.exportToIpynb('x.marimo.py', true, 'y.ipynb');
    await api.create('');
    expect(server.calls.map(c => [c.method, c.path, c.body])).toEqual([
      ['POST', 'convert', { path: 'sub/a b.ipynb', overwrite: false }],
      ['POST', 'convert', { path: 'sub/a b.ipynb', overwrite: true }],
      [
        'POST',
        'convert',
        { path: 'sub/a b.ipynb', overwrite: false, target: 'sub/c.py' }
      ],
      ['POST', 'export', { path: 'x.marimo.py', overwrite: false }],
      [
        'POST',
        'export',
        { path: 'x.marimo.py', overwrite: true, target: 'y.ipynb' }
      ],
      ['POST', 'new', { directory: '' }]
    ]);

    expect(await api.notebookUrl('sub dir/a&b=c.py', 'app')).toBe(
      '/base/marimo/?file=x'
    );
    const query = server.callsTo('GET', 'notebook-url')[0].query;
    expect(query.get('path')).toBe('sub dir/a&b=c.py');
    expect(query.get('mode')).toBe('app');
  });
});

describe('writeWithConfirm', () => {
  const conflict = (target = 'sub/x.marimo.py', suggestion?: string) =>
    apiError(409, {
      message: `${target} already exists.`,
      target,
      ...(suggestion ? { suggestion } : {})
    });

  it('writes at once when nothing is in the way', async () => {
    const write = jest.fn(async () => ({ path: 'x.marimo.py' }));
    const confirm = jest.fn(async () => REPLACE);
    expect(await writeWithConfirm(write, confirm)).toEqual({
      path: 'x.marimo.py'
    });
    expect(write.mock.calls).toEqual([[false, undefined]]);
    expect(confirm).not.toHaveBeenCalled();
  });

  it('asks about the conflict of a 409 and overwrites when told to', async () => {
    const write = jest
      .fn()
      .mockRejectedValueOnce(
        conflict('sub/x.marimo.py', 'sub/x-Copy1.marimo.py')
      )
      .mockResolvedValueOnce({ path: 'sub/x.marimo.py' });
    const confirm = jest.fn(async () => REPLACE);
    expect(await writeWithConfirm(write, confirm)).toEqual({
      path: 'sub/x.marimo.py'
    });
    expect(confirm).toHaveBeenCalledWith({
      message: 'sub/x.marimo.py already exists.',
      target: 'sub/x.marimo.py',
      suggestion: 'sub/x-Copy1.marimo.py'
    });
    expect(write.mock.calls).toEqual([
      [false, undefined],
      [true, undefined]
    ]);
  });

  it('writes to the other name the user chose, without overwriting', async () => {
    const write = jest
      .fn()
      .mockRejectedValueOnce(conflict())
      .mockResolvedValueOnce({ path: 'sub/mine.py' });
    const confirm = jest.fn(async (): Promise<OverwriteAnswer> => ({
      action: 'rename',
      target: 'sub/mine.py'
    }));
    expect(await writeWithConfirm(write, confirm)).toEqual({
      path: 'sub/mine.py'
    });
    expect(write.mock.calls).toEqual([
      [false, undefined],
      [false, 'sub/mine.py']
    ]);
  });

  it('asks again when the other name exists too, and replaces that one if told', async () => {
    const write = jest
      .fn()
      .mockRejectedValueOnce(conflict())
      .mockRejectedValueOnce(conflict('sub/mine.py', 'sub/mine-Copy1.py'))
      .mockResolvedValueOnce({ path: 'sub/mine.py' });
    const confirm = jest
      .fn()
      .mockResolvedValueOnce({ action: 'rename', target: 'sub/mine.py' })
      .mockResolvedValueOnce(REPLACE);
    expect(await writeWithConfirm(write, confirm)).toEqual({
      path: 'sub/mine.py'
    });
    expect(confirm.mock.calls[1][0].target).toBe('sub/mine.py');
    expect(write.mock.calls).toEqual([
      [false, undefined],
      [false, 'sub/mine.py'],
      [true, 'sub/mine.py']
    ]);
  });

  it('writes nothing when the user keeps the file', async () => {
    const write = jest.fn().mockRejectedValueOnce(conflict());
    expect(await writeWithConfirm(write, async () => CANCEL)).toBeNull();
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('passes other errors on, a refused name among them', async () => {
    const write = jest
      .fn()
      .mockRejectedValue(apiError(422, { message: 'marimo could not do it' }));
    const confirm = jest.fn(async () => REPLACE);
    await expect(writeWithConfirm(write, confirm)).rejects.toThrow(
      'marimo could not do it'
    );
    expect(confirm).not.toHaveBeenCalled();

    const refused = jest
      .fn()
      .mockRejectedValueOnce(conflict())
      .mockRejectedValueOnce(
        apiError(400, { message: 'mine.txt must end with .py.' })
      );
    await expect(
      writeWithConfirm(refused, async () => ({
        action: 'rename',
        target: 'sub/mine.txt'
      }))
    ).rejects.toThrow('mine.txt must end with .py.');
  });
});

/** The button of the open dialog labelled `label`. */
async function clickDialogButton(label: string): Promise<void> {
  await waitForDialog();
  const button = Array.from(
    document.body.querySelectorAll<HTMLButtonElement>('.jp-Dialog button')
  ).find(b => b.textContent?.trim() === label);
  if (!button) {
    throw new Error(`no dialog button ${label}`);
  }
  button.click();
}

/** Let the dialog that just closed go and the next one open. */
async function nextDialog(): Promise<HTMLElement> {
  for (let i = 0; i < 50; i++) {
    await new Promise(resolve => setTimeout(resolve, 10));
    const dialogs = document.body.querySelectorAll<HTMLElement>('.jp-Dialog');
    if (dialogs.length === 1 && dialogs[0].querySelector('input')) {
      return dialogs[0];
    }
  }
  throw new Error('the name dialog did not open');
}

describe('confirmOverwrite', () => {
  const conflict = {
    message: 'x.marimo.py already exists.',
    target: 'sub/x.marimo.py',
    suggestion: 'sub/x-Copy1.marimo.py'
  };

  it('asks in a JupyterLab dialog; Replace overwrites', async () => {
    const answer = confirmOverwrite(conflict, 'sub/x.ipynb');
    await dangerDialog();
    expect(await answer).toEqual({ action: 'replace' });
  });

  it('names both files, offers three choices with Cancel focused, and keeps the file on Cancel', async () => {
    const answer = confirmOverwrite(
      { ...conflict, target: 'x.marimo.py' },
      'x.ipynb'
    );
    await waitForDialog();
    const dialog = document.body.querySelector('.jp-Dialog')!;
    expect(dialog.textContent).toContain('Replace x.marimo.py?');
    expect(dialog.textContent).toContain(
      'x.marimo.py already exists next to x.ipynb.'
    );
    const labels = Array.from(dialog.querySelectorAll('button')).map(b =>
      b.textContent?.trim()
    );
    expect(labels.slice(-3)).toEqual(['Cancel', SAVE_AS_LABEL, 'Replace']);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(document.activeElement?.textContent?.trim()).toBe('Cancel');
    await dismissDialog();
    expect(await answer).toEqual({ action: 'cancel' });
  });

  it('"Save as…" asks for a name, prefilled with the free one, in the same folder', async () => {
    const answer = confirmOverwrite(conflict, 'sub/x.ipynb');
    await clickDialogButton(SAVE_AS_LABEL);
    const named = await nextDialog();
    const input = named.querySelector('input')!;
    expect(named.textContent).toContain('Save under another name');
    expect(input.value).toBe('x-Copy1.marimo.py');
    // The stem is selected, so typing replaces it and keeps the suffix.
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, 7]);
    input.value = 'mine.marimo.py';
    await acceptDialog();
    expect(await answer).toEqual({
      action: 'rename',
      target: 'sub/mine.marimo.py'
    });
  });

  it('cancelling the name keeps everything as it is', async () => {
    const answer = confirmOverwrite(conflict, 'sub/x.ipynb');
    await clickDialogButton(SAVE_AS_LABEL);
    await nextDialog();
    await dismissDialog();
    expect(await answer).toEqual({ action: 'cancel' });
  });
});

describe('askOtherName', () => {
  it('in the root, the name is the path; spaces around it go', async () => {
    const name = askOtherName({
      message: '',
      target: 'x.ipynb',
      suggestion: 'x-Copy1.ipynb'
    });
    const dialog = await nextDialog();
    expect(dialog.querySelector('input')!.value).toBe('x-Copy1.ipynb');
    dialog.querySelector('input')!.value = '  y.ipynb ';
    await acceptDialog();
    expect(await name).toBe('y.ipynb');
  });

  it('without a suggestion (an older server) it starts from the name in the way', async () => {
    const name = askOtherName({
      message: '',
      target: 'a/b/x.ipynb',
      suggestion: null
    });
    const dialog = await nextDialog();
    expect(dialog.querySelector('input')!.value).toBe('x.ipynb');
    await acceptDialog();
    expect(await name).toBe('a/b/x.ipynb');
  });
});

describe('errorNotice', () => {
  it('keeps a short server message as it is, after what failed', () => {
    expect(
      errorNotice(
        'Could not open plain.py in marimo',
        apiError(400, { message: NOT_MARIMO })
      )
    ).toEqual({
      message: `Could not open plain.py in marimo: ${NOT_MARIMO}`,
      details: null
    });
  });

  it("cuts marimo's traceback to the exception, keeping the whole text", () => {
    const notice = errorNotice(
      'Could not convert bad.ipynb to marimo',
      apiError(422, { message: MARIMO_TRACEBACK })
    );
    expect(notice.message).toBe(
      'Could not convert bad.ipynb to marimo: marimo could not do it: ' +
        'json.decoder.JSONDecodeError: Expecting value: line 2 column 1 (char 12)'
    );
    expect(notice.details).toBe(MARIMO_TRACEBACK);
  });

  it('says when the server could not be reached', () => {
    const error = new ServerConnection.NetworkError(new TypeError('x'));
    expect(errorNotice('Could not export x.py', error).message).toBe(
      'Could not export x.py: the Jupyter server could not be reached'
    );
  });
});

describe('NotebookActions', () => {
  function actions(server: FakeServer, host = fakeHost()) {
    return {
      host,
      actions: new NotebookActions(new NotebooksAPI(server.request), host)
    };
  }

  it('converts, refreshes the file browser and offers to open the result', async () => {
    const server = new FakeServer().on('POST', 'convert', () => ({
      path: 'analysis.marimo.py'
    }));
    const { host, actions: a } = actions(server);
    expect(await a.convert('analysis.ipynb')).toBe('analysis.marimo.py');
    expect(host.refreshFileBrowser).toHaveBeenCalled();
    expect(host.openInMarimo).not.toHaveBeenCalled();

    expect(latest().type).toBe('success');
    expect(latest().message).toBe(
      'Converted analysis.ipynb to analysis.marimo.py.'
    );
    const [open] = latest().options.actions!;
    expect(open.label).toBe('Open in marimo');
    open.callback(new MouseEvent('click'));
    expect(host.openInMarimo).toHaveBeenCalledWith('analysis.marimo.py');
  });

  it('asks before overwriting, then sends overwrite: true', async () => {
    const server = new FakeServer().on('POST', 'convert', call =>
      call.body.overwrite
        ? { path: 'analysis.marimo.py' }
        : fails(409, {
            message: 'analysis.marimo.py already exists.',
            target: 'analysis.marimo.py'
          })(call)
    );
    const { host, actions: a } = actions(server, fakeHost(true));
    expect(await a.convert('analysis.ipynb')).toBe('analysis.marimo.py');
    expect(host.confirmOverwrite).toHaveBeenCalledWith(
      {
        message: 'analysis.marimo.py already exists.',
        target: 'analysis.marimo.py',
        suggestion: null
      },
      'analysis.ipynb'
    );
    expect(
      server.callsTo('POST', 'convert').map(c => c.body.overwrite)
    ).toEqual([false, true]);
  });

  it('drives the real dialogs: "Save as…" exports to the name typed', async () => {
    const server = new FakeServer().on('POST', 'export', call =>
      call.body.target
        ? { path: call.body.target }
        : fails(409, {
            message: 'analysis.ipynb already exists.',
            target: 'work/analysis.ipynb',
            suggestion: 'work/analysis-Copy1.ipynb'
          })(call)
    );
    const host = { ...fakeHost(), confirmOverwrite };
    const a = new NotebookActions(new NotebooksAPI(server.request), host);
    const done = a.exportToIpynb('work/analysis.marimo.py');
    await clickDialogButton(SAVE_AS_LABEL);
    await nextDialog();
    await acceptDialog();
    expect(await done).toBe('work/analysis-Copy1.ipynb');
    expect(server.callsTo('POST', 'export').map(c => c.body)).toEqual([
      { path: 'work/analysis.marimo.py', overwrite: false },
      {
        path: 'work/analysis.marimo.py',
        overwrite: false,
        target: 'work/analysis-Copy1.ipynb'
      }
    ]);
    expect(latest().message).toBe(
      'Exported analysis.marimo.py to analysis-Copy1.ipynb.'
    );
    latest().options.actions![0].callback(new MouseEvent('click'));
    expect(host.openDocument).toHaveBeenCalledWith('work/analysis-Copy1.ipynb');
  });

  it('a name the server refuses is said in a notification, nothing written', async () => {
    const server = new FakeServer().on('POST', 'convert', call =>
      call.body.target
        ? fails(400, { message: 'notes.txt must end with .py.' })(call)
        : fails(409, {
            message: 'exists',
            target: 'analysis.marimo.py',
            suggestion: 'analysis-Copy1.marimo.py'
          })(call)
    );
    const host = { ...fakeHost(), confirmOverwrite };
    const a = new NotebookActions(new NotebooksAPI(server.request), host);
    const done = a.convert('analysis.ipynb');
    await clickDialogButton(SAVE_AS_LABEL);
    const named = await nextDialog();
    named.querySelector('input')!.value = 'notes.txt';
    await acceptDialog();
    expect(await done).toBeNull();
    expect(host.refreshFileBrowser).not.toHaveBeenCalled();
    expect(latest().type).toBe('error');
    expect(latest().message).toBe(
      'Could not convert analysis.ipynb to marimo: notes.txt must end with .py.'
    );
  });

  it('drives the real dialog: Cancel keeps the existing file', async () => {
    const server = new FakeServer().on(
      'POST',
      'convert',
      fails(409, { message: 'exists', target: 'analysis.marimo.py' })
    );
    const host = { ...fakeHost(), confirmOverwrite };
    const a = new NotebookActions(new NotebooksAPI(server.request), host);
    const done = a.convert('analysis.ipynb');
    await dismissDialog();
    expect(await done).toBeNull();
    expect(server.callsTo('POST', 'convert')).toHaveLength(1);
    expect(Notification.manager.count).toBe(0);
  });

  it("shows marimo's own message when it cannot convert", async () => {
    const server = new FakeServer().on(
      'POST',
      'convert',
      fails(422, { message: MARIMO_TRACEBACK })
    );
    const { host, actions: a } = actions(server);
    expect(await a.convert('bad.ipynb')).toBeNull();
    expect(host.refreshFileBrowser).not.toHaveBeenCalled();
    expect(latest().type).toBe('error');
    expect(latest().options.autoClose).toBe(false);
    expect(latest().message).toBe(
      'Could not convert bad.ipynb to marimo: marimo could not do it: ' +
        'json.decoder.JSONDecodeError: Expecting value: line 2 column 1 (char 12)'
    );
    const [details] = latest().options.actions!;
    expect(details.label).toBe('Show details');
    details.callback(new MouseEvent('click'));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(
      document.body.querySelector('.jp-MarimoProxy-details')!.textContent
    ).toBe(MARIMO_TRACEBACK);
    await dismissDialog();
  });

  it('exports to .ipynb and offers to open it in JupyterLab', async () => {
    const server = new FakeServer().on('POST', 'export', call =>
      call.body.overwrite
        ? { path: 'analysis.ipynb' }
        : fails(409, { message: 'exists', target: 'analysis.ipynb' })(call)
    );
    const { host, actions: a } = actions(server);
    expect(await a.exportToIpynb('analysis.marimo.py')).toBe('analysis.ipynb');
    expect(latest().message).toBe(
      'Exported analysis.marimo.py to analysis.ipynb.'
    );
    latest().options.actions![0].callback(new MouseEvent('click'));
    expect(host.openDocument).toHaveBeenCalledWith('analysis.ipynb');
  });

  it('says why a file is not a marimo notebook', async () => {
    const server = new FakeServer().on(
      'POST',
      'export',
      fails(400, { message: 'plain.py is not a marimo notebook.' })
    );
    const { actions: a } = actions(server);
    expect(await a.exportToIpynb('plain.py')).toBeNull();
    expect(latest().message).toBe(
      'Could not export plain.py to a Jupyter notebook: plain.py is not a marimo notebook.'
    );
  });

  it('opens a .py in marimo only once the server knows it as marimo', async () => {
    const server = new FakeServer().on('GET', 'notebook-url', call =>
      call.query.get('path') === 'plain.py'
        ? fails(400, { message: NOT_MARIMO })(call)
        : { url: '/marimo/?file=app.py' }
    );
    const { host, actions: a } = actions(server);
    expect(await a.open('app.py')).toBe(true);
    expect(host.openInMarimo).toHaveBeenCalledWith('app.py');

    expect(await a.open('plain.py')).toBe(false);
    expect(host.openInMarimo).toHaveBeenCalledTimes(1);
    expect(latest().type).toBe('error');
    expect(latest().message).toBe(
      `Could not open plain.py in marimo: ${NOT_MARIMO}`
    );
  });

  it('runs a notebook as an app at the URL the server gives', async () => {
    const url = '/user/me/marimo/?file=sub%2Fa.marimo.py&view-as=present';
    const server = new FakeServer().on('GET', 'notebook-url', () => ({ url }));
    const { host, actions: a } = actions(server);
    expect(await a.runAsApp('sub/a.marimo.py')).toBe(true);
    expect(server.calls[0].query.get('mode')).toBe('app');
    expect(host.openApp).toHaveBeenCalledWith('sub/a.marimo.py', url);
  });

  it('creates a notebook in a folder and opens it in marimo', async () => {
    const server = new FakeServer().on('POST', 'new', () => ({
      path: 'sub/untitled1.marimo.py'
    }));
    const { host, actions: a } = actions(server);
    expect(await a.create('sub')).toBe('sub/untitled1.marimo.py');
    expect(server.calls[0].body).toEqual({ directory: 'sub' });
    expect(host.refreshFileBrowser).toHaveBeenCalled();
    expect(host.openInMarimo).toHaveBeenCalledWith('sub/untitled1.marimo.py');
  });

  it('says when a notebook cannot be created', async () => {
    const server = new FakeServer().on(
      'POST',
      'new',
      fails(403, { message: 'sub is outside the Jupyter root.' })
    );
    const { host, actions: a } = actions(server);
    expect(await a.create('sub')).toBeNull();
    expect(host.openInMarimo).not.toHaveBeenCalled();
    expect(latest().message).toBe(
      'Could not create a marimo notebook: sub is outside the Jupyter root.'
    );
  });
});

describe('withProgress', () => {
  it('says what is under way only when it takes a while', async () => {
    expect(await withProgress('Quick…', Promise.resolve(1), 50)).toBe(1);
    await new Promise(resolve => setTimeout(resolve, 80));
    expect(Notification.manager.count).toBe(0);

    let finish!: (value: number) => void;
    const slow = withProgress(
      'Converting a.ipynb to marimo…',
      new Promise<number>(resolve => (finish = resolve)),
      10
    );
    await new Promise(resolve => setTimeout(resolve, 40));
    expect(Notification.manager.count).toBe(1);
    expect(latest().type).toBe('in-progress');
    expect(latest().message).toBe('Converting a.ipynb to marimo…');
    finish(2);
    expect(await slow).toBe(2);
    expect(Notification.manager.count).toBe(0);
  });
});
