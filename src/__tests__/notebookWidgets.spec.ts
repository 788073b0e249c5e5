import { DocumentModel, DocumentRegistry } from '@jupyterlab/docregistry';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { NotebooksAPI } from '../notebooks/api';
import { runWhenReady, visibleRunButton } from '../notebooks/autorun';
import { MarimoDocumentFactory } from '../notebooks/widgets';
import { IStatusCheck } from '../tokens';
import { fails, FakeServer } from './fakeServer';
import { healthyStatus } from './fixtures';

const OK: IStatusCheck = {
  kind: 'ok',
  title: '',
  message: '',
  detail: null,
  warnings: [],
  httpStatus: 200,
  status: healthyStatus()
};

/** The parts of a document context a marimo tab uses. */
function fakeContext(path: string) {
  const context: any = {
    path,
    localPath: path,
    model: new DocumentModel(),
    ready: Promise.resolve(),
    contentsModel: { writable: true },
    isDisposed: false
  };
  // The context is the sender: the tab reads its new path from it.
  context.pathChanged = new Signal<any, string>(context);
  context.fileChanged = new Signal<any, unknown>(context);
  context.disposed = new Signal<any, void>(context);
  return context as {
    localPath: string;
    model: DocumentModel;
    pathChanged: Signal<any, string>;
  };
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('MarimoDocumentFactory', () => {
  it('opens the file in marimo’s editor in a read-only document tab', async () => {
    const server = new FakeServer().on('GET', 'notebook-url', call => ({
      url: `/marimo/?file=${call.query.get('path')}`
    }));
    const factory = new MarimoDocumentFactory({
      api: new NotebooksAPI(server.request),
      checkStatus: async () => OK
    });
    const context = fakeContext('sub/a.marimo.py');
    const widget = factory.createNew(
      context as unknown as DocumentRegistry.IContext<DocumentRegistry.ICodeModel>
    );
    Widget.attach(widget, document.body);
    await widget.content.ready;

    // Saving this copy would overwrite what marimo saved.
    expect(context.model.readOnly).toBe(true);
    expect(widget.title.label).toBe('a.marimo.py');
    expect(widget.title.icon).toBeTruthy();
    expect(widget.hasClass('jp-MarimoProxy-notebookTab')).toBe(true);
    expect(server.calls[0].query.get('mode')).toBe('edit');
    const iframe = widget.node.querySelector('iframe')!;
    expect(iframe.getAttribute('src')).toBe('/marimo/?file=sub/a.marimo.py');
    expect(iframe.title).toBe('marimo editor: a.marimo.py');

    // A rename: marimo opens the file by its new name.
    context.localPath = 'sub/b.marimo.py';
    context.pathChanged.emit('sub/b.marimo.py');
    await widget.content.ready;
    expect(widget.node.querySelector('iframe')!.getAttribute('src')).toBe(
      '/marimo/?file=sub/b.marimo.py'
    );
    widget.dispose();
  });

  it('says in the tab when the file is not a marimo notebook', async () => {
    const server = new FakeServer().on(
      'GET',
      'notebook-url',
      fails(400, { message: 'x.marimo.py is not a marimo notebook.' })
    );
    const factory = new MarimoDocumentFactory({
      api: new NotebooksAPI(server.request),
      checkStatus: async () => OK
    });
    const widget = factory.createNew(fakeContext('x.marimo.py') as any);
    Widget.attach(widget, document.body);
    await widget.content.ready;
    expect(widget.content.state).toBe('failing');
    expect(widget.node.querySelector('iframe')).toBeNull();
    const message = widget.node.querySelector('.jp-MarimoProxy-message')!;
    expect(message.textContent).toContain('marimo cannot open x.marimo.py');
    expect(message.textContent).toContain(
      'x.marimo.py is not a marimo notebook.'
    );
    widget.dispose();
  });
});

describe('running an app', () => {
  /** marimo's page: run buttons, `shown` of them on screen. */
  function page(
    buttons: { shown: boolean; classes: string; disabled?: boolean }[]
  ) {
    const doc = document.implementation.createHTMLDocument('marimo');
    for (const spec of buttons) {
      const button = doc.createElement('button');
      button.dataset.testid = 'run-button';
      button.className = spec.classes;
      button.disabled = !!spec.disabled;
      // jsdom lays nothing out: say which buttons are on screen.
      button.getClientRects = () =>
        (spec.shown ? [{}] : []) as unknown as DOMRectList;
      doc.body.appendChild(button);
    }
    return doc;
  }

  it('finds marimo’s run button when it says cells need running', () => {
    const stale = page([
      { shown: false, classes: 'cell' },
      { shown: false, classes: 'cell', disabled: true },
      { shown: true, classes: 'mo-button yellow' }
    ]);
    expect(visibleRunButton(stale)?.className).toBe('mo-button yellow');
  });

  it('leaves alone a kernel not yet ready, a notebook that ran, and the editor', () => {
    // Before the kernel is connected: pressing it does nothing.
    expect(
      visibleRunButton(page([{ shown: true, classes: 'mo-button disabled' }]))
    ).toBeNull();
    // Cells already ran (a session marimo kept).
    expect(
      visibleRunButton(page([{ shown: true, classes: 'mo-button green' }]))
    ).toBeNull();
    // The editor: a run button per cell on screen.
    expect(
      visibleRunButton(
        page([
          { shown: true, classes: 'mo-button yellow' },
          { shown: true, classes: 'mo-button yellow' }
        ])
      )
    ).toBeNull();
  });

  it('presses it once it appears, and gives up when the frame is gone', async () => {
    const iframe = document.createElement('iframe');
    document.body.appendChild(iframe);
    const doc = iframe.contentDocument!;
    const pressed = runWhenReady(iframe, 2000);
    await new Promise(resolve => setTimeout(resolve, 300));
    const button = doc.createElement('button');
    button.dataset.testid = 'run-button';
    button.className = 'mo-button yellow';
    button.getClientRects = () => [{}] as unknown as DOMRectList;
    const click = jest.fn();
    button.addEventListener('click', click);
    doc.body.appendChild(button);
    expect(await pressed).toBe(true);
    expect(click).toHaveBeenCalledTimes(1);

    // Nothing left to run; then the tab is closed.
    button.className = 'mo-button green';
    const gone = runWhenReady(iframe, 60000);
    await new Promise(resolve => setTimeout(resolve, 300));
    iframe.remove();
    expect(await gone).toBe(false);
    expect(click).toHaveBeenCalledTimes(1);
  });
});
