import { IFrame, MainAreaWidget } from '@jupyterlab/apputils';
import {
  launchIcon,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { IDisposable } from '@lumino/disposable';

import { errorMessage } from './errors';
import { marimoIcon } from './icons';
import {
  frameContent,
  FrameContent,
  importantLines,
  settingFor
} from './notebooks/frame';
import { marimoStatus } from './statusStore';
import { IStatusCheck, MARIMO_WIDGET_ID } from './tokens';

/** How often the panel looks whether marimo's page has arrived (ms). */
const FRAME_POLL = 200;

/**
 * After this long (ms) the frame is shown whatever it holds: the launcher
 * answers with its failure page well before (startup_timeout), so a page
 * still not rendered is something else worth seeing.
 */
const FRAME_PATIENCE = 300000;

/**
 * What the extension does to every marimo frame, whichever tab holds it
 * (home, notebook, app): set up by the plugins (theme, links, recovery).
 */
export interface IFrameHooks {
  /** The URL to load instead of `url` (e.g. with marimo's theme). */
  url?(url: string): string;
  /** After each load event of the frame. */
  loaded?(iframe: HTMLIFrameElement, panel: MarimoPanel): void;
  /** Once marimo's page has rendered in a new frame. */
  ready?(iframe: HTMLIFrameElement, panel: MarimoPanel): void;
}

const frameHooks = new Set<IFrameHooks>();

/** Apply `hooks` to every marimo frame from now on. */
export function addFrameHooks(hooks: IFrameHooks): IDisposable {
  frameHooks.add(hooks);
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose: () => {
      disposed = true;
      frameHooks.delete(hooks);
    }
  };
}

/** Every frame of every open marimo panel (theme changes apply to all). */
export function allMarimoFrames(): HTMLIFrameElement[] {
  return Array.from(
    document.querySelectorAll<HTMLIFrameElement>('iframe.jp-MarimoProxy-frame')
  );
}

/**
 * Sandbox exceptions for the marimo iframe. marimo's page calls its own
 * API and opens a websocket, which fail without `allow-same-origin`;
 * forms, dialogs, popups and downloads are parts of its editor.
 */
export const SANDBOX: IFrame.SandboxExceptions[] = [
  'allow-scripts',
  'allow-same-origin',
  'allow-forms',
  'allow-modals',
  'allow-popups',
  'allow-downloads'
];

/** Where the panel is: a status check in flight, or its outcome. */
export type PanelState = 'checking' | IStatusCheck['kind'];

/**
 * The content of a marimo tab: asks the server extension for its status
 * first, then shows either marimo (its file home, a notebook's editor or a
 * notebook as an app) or a message saying what is wrong. Without that check
 * a missing server extension would show up as a blank frame or Jupyter's
 * bare 404 page.
 */
export class MarimoPanel extends Panel {
  constructor(options: MarimoPanel.IOptions) {
    super();
    this.addClass('jp-MarimoProxy-panel');
    this._url = options.url ?? '';
    this._locate = options.locate ?? null;
    this._frameTitle = options.frameTitle ?? 'marimo editor';
    this._onFrame = options.onFrame ?? null;
    this._locateFailedTitle =
      options.locateFailedTitle ?? 'marimo cannot open this file';
    this._checkStatus = options.checkStatus ?? (() => marimoStatus.check());
    // A start that ended (marimo's page, the launcher's failure page, marimo
    // gone under the frame) changes marimo's state after the check above:
    // the shared status asks again so that the tile and the sidebar follow.
    this._startEnded =
      options.startEnded ??
      (options.checkStatus ? () => undefined : () => void marimoStatus.check());
    this._ready = this.refresh();
  }

  /**
   * URL the frame shows: the fixed one, or the one `locate` answered last
   * (empty until then).
   */
  get url(): string {
    return this._url;
  }

  get state(): PanelState {
    return this._state;
  }

  /** Outcome of the latest finished check, if any. */
  get lastCheck(): IStatusCheck | null {
    return this._lastCheck;
  }

  /** Resolves when the latest check started has been shown. */
  get ready(): Promise<IStatusCheck> {
    return this._ready;
  }

  /** Emitted after each finished check. */
  get statusChecked(): ISignal<this, IStatusCheck> {
    return this._statusChecked;
  }

  /**
   * Check the status again and reload the editor. Each call makes exactly
   * one status request; a check overtaken by a newer one is discarded.
   */
  refresh(): Promise<IStatusCheck> {
    const generation = ++this._generation;
    this._show('checking', [createChecking()]);
    this._ready = this._load(generation);
    return this._ready;
  }

  private async _load(generation: number): Promise<IStatusCheck> {
    const current = () => generation === this._generation && !this.isDisposed;
    const check = await this._checkStatus();
    if (!current()) {
      return check;
    }
    if (check.kind === 'ok' && this._locate) {
      // Where marimo shows this notebook: asked anew on every refresh, so
      // that a renamed file or a changed base URL is followed.
      let url: string;
      try {
        url = await this._locate();
      } catch (error) {
        if (current()) {
          this._lastCheck = check;
          this._show('failing', [
            createMessage(
              {
                ...check,
                kind: 'failing',
                title: this._locateFailedTitle,
                message: errorMessage(error),
                detail: null
              },
              'Retry',
              () => void this.refresh()
            )
          ]);
          this._statusChecked.emit(check);
        }
        return check;
      }
      if (!current()) {
        return check;
      }
      this._url = url;
    }
    this._lastCheck = check;
    this._render(check);
    this._statusChecked.emit(check);
    return check;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    Signal.clearData(this);
    super.dispose();
  }

  /** The frame showing marimo, if any. */
  get iframe(): HTMLIFrameElement | null {
    return this.node.querySelector('iframe.jp-MarimoProxy-frame');
  }

  /** Whether marimo's page has rendered in the current frame. */
  get frameReady(): boolean {
    return this._frameReady;
  }

  /** The jupyter-server-proxy route the frame is on (`marimo`, `marimo-apps`). */
  get route(): string {
    const match = /\/(marimo(?:-apps)?)\/(?:\?|$)/.exec(this._url);
    return match ? match[1] : 'marimo';
  }

  /** Which start of marimo the frame was loaded from (set by the recovery watcher). */
  instance: string | null = null;

  /**
   * marimo went away under the frame: reload when it is back (`running`),
   * else say in one line what happened, with a button to start it again.
   */
  reconnect(state: string, error: string | null = null): void {
    if (state === 'running') {
      void this.refresh();
      return;
    }
    if (this.node.querySelector('.jp-MarimoProxy-notice')) {
      return;
    }
    const text =
      state === 'failed'
        ? `marimo stopped and could not start again${error ? `: ${error}` : '.'}`
        : state === 'idle'
          ? 'marimo stopped after being idle.'
          : 'marimo has stopped.';
    const notice = createNotice(
      text,
      'Start marimo again',
      () => void this.refresh()
    );
    this.insertWidget(0, notice);
    this._startEnded();
  }

  private _render(check: IStatusCheck): void {
    if (check.kind === 'ok') {
      const children: Widget[] = [];
      if (check.warnings.length) {
        children.push(createWarnings(check.warnings));
      }
      let url = this._url;
      for (const hooks of frameHooks) {
        url = hooks.url ? hooks.url(url) : url;
      }
      const frame = createFrame(url, this._frameTitle);
      children.push(frame);
      const firstUse = check.status ? !check.status.venv.exists : false;
      const starting = createStarting(firstUse);
      children.push(starting);
      const iframe = frame.node.querySelector('iframe');
      if (iframe) {
        iframe.addEventListener('load', () => {
          for (const hooks of frameHooks) {
            hooks.loaded?.(iframe, this);
          }
        });
        if (this._onFrame) {
          this._onFrame(iframe);
        }
      }
      this._frameReady = false;
      this._show('ok', children);
      if (iframe) {
        void this._watchFrame(iframe, starting, this._generation);
      }
      return;
    }
    const retryLabel = check.kind === 'missing' ? 'Check again' : 'Retry';
    this._show(check.kind, [
      createMessage(check, retryLabel, () => void this.refresh())
    ]);
  }

  /**
   * Keep "Starting marimo…" (with the time elapsed) over the frame until
   * marimo's page has rendered; the launcher's failure page becomes our
   * own message, in JupyterLab's look, with a Retry button.
   */
  private async _watchFrame(
    iframe: HTMLIFrameElement,
    starting: Widget,
    generation: number
  ): Promise<void> {
    const started = Date.now();
    const label = starting.node.querySelector('.jp-MarimoProxy-elapsed');
    let content: FrameContent = { kind: 'loading' };
    while (generation === this._generation && !this.isDisposed) {
      content = frameContent(iframe);
      if (content.kind !== 'loading' || Date.now() - started > FRAME_PATIENCE) {
        break;
      }
      if (label) {
        const seconds = Math.floor((Date.now() - started) / 1000);
        label.textContent = seconds >= 1 ? `${seconds} s` : '';
      }
      await new Promise(resolve => setTimeout(resolve, FRAME_POLL));
    }
    if (generation !== this._generation || this.isDisposed) {
      return;
    }
    if (content.kind === 'failed') {
      const setting = settingFor(content.error);
      this._show('failing', [
        createMessage(
          {
            kind: 'failing',
            title: 'marimo could not start',
            message:
              `${content.error.trim()} If this keeps happening, check the ` +
              `setting \`${setting}\` in the Jupyter server's configuration.`,
            detail: importantLines(content.log) || null,
            warnings: [],
            httpStatus: 503,
            status: null
          },
          'Retry',
          () => void this.refresh()
        )
      ]);
      this._startEnded();
      return;
    }
    starting.dispose();
    if (content.kind === 'marimo') {
      this._frameReady = true;
      for (const hooks of frameHooks) {
        hooks.ready?.(iframe, this);
      }
      this._frameShown.emit(iframe);
      this._startEnded();
    }
  }

  /** Emitted when marimo's page has rendered in a new frame. */
  get frameShown(): ISignal<this, HTMLIFrameElement> {
    return this._frameShown;
  }

  private _show(state: PanelState, children: Widget[]): void {
    // Dispose rather than hide the previous children: a fresh iframe is
    // the simplest way to make Retry really reload marimo.
    while (this.widgets.length) {
      this.widgets[0].dispose();
    }
    children.forEach(child => this.addWidget(child));
    this._state = state;
    this.node.dataset.status = state;
  }

  private _url: string;
  private _locate: (() => Promise<string>) | null;
  private _frameTitle: string;
  private _onFrame: ((iframe: HTMLIFrameElement) => void) | null;
  private _locateFailedTitle: string;
  private _checkStatus: () => Promise<IStatusCheck>;
  private _startEnded: () => void;
  private _ready: Promise<IStatusCheck>;
  private _lastCheck: IStatusCheck | null = null;
  private _state: PanelState = 'checking';
  private _generation = 0;
  private _statusChecked = new Signal<this, IStatusCheck>(this);
  private _frameShown = new Signal<this, HTMLIFrameElement>(this);
  private _frameReady = false;
}

export namespace MarimoPanel {
  export interface IOptions {
    /** A fixed URL to show, e.g. marimo's file home (see `marimoTabUrl`). */
    url?: string;
    /**
     * Where to find the URL to show, asked after each successful status
     * check (e.g. a notebook's URL from the server). When it throws, the
     * panel shows its message under `locateFailedTitle`.
     */
    locate?: () => Promise<string>;
    /** Title of the iframe, for screen readers. */
    frameTitle?: string;
    /** Called with each new iframe, once it is set to load marimo. */
    onFrame?: (iframe: HTMLIFrameElement) => void;
    /** Headline when `locate` fails. */
    locateFailedTitle?: string;
    /**
     * Status check to run; defaults to a request through the shared status
     * (`marimoStatus`), which tells the tile and the sidebar.
     */
    checkStatus?: () => Promise<IStatusCheck>;
    /**
     * Called when a start ended: marimo's page showed, the launcher's
     * failure page showed, or marimo went away under the frame. Defaults
     * to asking the shared status again (none with a custom `checkStatus`).
     */
    startEnded?: () => void;
  }
}

/**
 * The marimo tab: the panel in a main area widget with a toolbar to reload
 * the editor or move it to its own browser tab.
 */
export function createMarimoTab(
  options: MarimoPanel.IOptions
): MainAreaWidget<MarimoPanel> {
  const content = new MarimoPanel(options);
  const widget = new MainAreaWidget({ content });
  widget.id = MARIMO_WIDGET_ID;
  widget.addClass('jp-MarimoProxy-tab');
  widget.title.label = 'marimo';
  widget.title.caption = 'marimo editor';
  widget.title.icon = marimoIcon;
  widget.title.closable = true;
  addMarimoToolbar(widget);
  return widget;
}

/**
 * The toolbar of every marimo tab: reload (a fresh status check and
 * iframe), and the same page in a browser tab of its own.
 */
export function addMarimoToolbar(widget: MainAreaWidget<MarimoPanel>): void {
  const content = widget.content;
  widget.toolbar.addItem(
    'reload',
    new ToolbarButton({
      icon: refreshIcon,
      tooltip: 'Check the marimo server again and reload the editor',
      onClick: () => void content.refresh()
    })
  );
  widget.toolbar.addItem(
    'open-in-browser-tab',
    new ToolbarButton({
      icon: launchIcon,
      tooltip: 'Open this page of marimo in a new browser tab',
      onClick: () => {
        if (content.url) {
          openInBrowserTab(content.url);
        }
      }
    })
  );
}

/** Open a URL in a new browser tab that cannot script JupyterLab's page. */
export function openInBrowserTab(url: string): void {
  window.open(url, '_blank', 'noopener,noreferrer');
}

function createFrame(url: string, title: string): IFrame {
  const frame = new IFrame({
    sandbox: [...SANDBOX],
    referrerPolicy: 'no-referrer'
  });
  frame.addClass('jp-MarimoProxy-frameHost');
  const iframe = frame.node.querySelector('iframe');
  if (iframe) {
    iframe.classList.add('jp-MarimoProxy-frame');
    iframe.title = title;
    // marimo copies cells and outputs through the clipboard API, which an
    // iframe only gets when the embedding page delegates it.
    iframe.setAttribute('allow', 'clipboard-read; clipboard-write');
  }
  frame.url = url;
  return frame;
}

/**
 * "Starting marimo…" over the frame while marimo's page is on its way:
 * the launcher holds the request while marimo starts, so the frame stays
 * blank until then.
 */
function createStarting(firstUse: boolean): Widget {
  const widget = new Widget();
  widget.addClass('jp-MarimoProxy-starting');
  widget.node.setAttribute('role', 'status');
  const text = document.createElement('p');
  text.className = 'jp-MarimoProxy-messageText';
  text.textContent = firstUse
    ? 'Starting marimo… (first use: creating its Python environment)'
    : 'Starting marimo…';
  const elapsed = document.createElement('span');
  elapsed.className = 'jp-MarimoProxy-elapsed';
  const spinner = document.createElement('div');
  spinner.className = 'jp-MarimoProxy-spinner';
  widget.node.append(spinner, text, elapsed);
  return widget;
}

/** One line over the frame saying what happened, with one button. */
function createNotice(
  text: string,
  label: string,
  onClick: () => void
): Widget {
  const widget = new Widget();
  widget.addClass('jp-MarimoProxy-notice');
  widget.node.setAttribute('role', 'alert');
  const line = document.createElement('span');
  line.textContent = text;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jp-Button jp-mod-styled jp-mod-accept';
  button.textContent = label;
  button.addEventListener('click', onClick);
  widget.node.append(line, button);
  return widget;
}

function createChecking(): Widget {
  const widget = new Widget();
  widget.addClass('jp-MarimoProxy-message');
  widget.addClass('jp-mod-checking');
  const text = document.createElement('p');
  text.className = 'jp-MarimoProxy-messageText';
  text.textContent = 'Starting marimo…';
  widget.node.setAttribute('role', 'status');
  widget.node.appendChild(text);
  return widget;
}

/**
 * A message saying why the server part cannot be used, with a button to
 * check again. Shared with the "Install package" sidebar, so that both
 * explain a missing server extension in the same words.
 */
export function createMessage(
  check: IStatusCheck,
  retryLabel: string,
  onRetry: () => void
): Widget {
  const widget = new Widget();
  widget.addClass('jp-MarimoProxy-message');
  widget.addClass(`jp-mod-${check.kind}`);
  widget.node.setAttribute('role', 'alert');

  const title = document.createElement('h2');
  title.className = 'jp-MarimoProxy-messageTitle';
  title.textContent = check.title;
  widget.node.appendChild(title);

  const text = document.createElement('p');
  text.className = 'jp-MarimoProxy-messageText';
  appendWithCode(text, check.message);
  widget.node.appendChild(text);

  if (check.detail) {
    const detail = document.createElement('pre');
    detail.className = 'jp-MarimoProxy-messageDetail';
    detail.textContent = check.detail;
    widget.node.appendChild(detail);
  }

  const retry = document.createElement('button');
  retry.type = 'button';
  retry.className =
    'jp-Button jp-mod-styled jp-mod-accept jp-MarimoProxy-retry';
  retry.textContent = retryLabel;
  retry.addEventListener('click', onRetry);
  widget.node.appendChild(retry);
  return widget;
}

function createWarnings(warnings: string[]): Widget {
  const widget = new Widget();
  widget.addClass('jp-MarimoProxy-warning');
  widget.node.setAttribute('role', 'status');
  const list = document.createElement('ul');
  for (const warning of warnings) {
    const item = document.createElement('li');
    item.textContent = warning;
    list.appendChild(item);
  }
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'jp-Button jp-mod-minimal jp-MarimoProxy-dismiss';
  dismiss.title = 'Dismiss';
  dismiss.setAttribute('aria-label', 'Dismiss');
  dismiss.textContent = '×';
  dismiss.addEventListener('click', () => widget.dispose());
  widget.node.append(list, dismiss);
  return widget;
}

/**
 * Append text where `backticked` parts become <code> elements. Built from
 * text nodes, never HTML, because parts of it come from the server.
 */
function appendWithCode(parent: HTMLElement, text: string): void {
  text.split('`').forEach((part, index) => {
    if (!part) {
      return;
    }
    if (index % 2 === 1) {
      const code = document.createElement('code');
      code.textContent = part;
      parent.appendChild(code);
    } else {
      parent.appendChild(document.createTextNode(part));
    }
  });
}
