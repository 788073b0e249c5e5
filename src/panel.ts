import { IFrame, MainAreaWidget } from '@jupyterlab/apputils';
import {
  launchIcon,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { errorMessage } from './errors';
import { marimoIcon } from './icons';
import { fetchStatus } from './status';
import { IStatusCheck, MARIMO_WIDGET_ID } from './tokens';

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
    this._checkStatus = options.checkStatus ?? (() => fetchStatus());
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

  private _render(check: IStatusCheck): void {
    if (check.kind === 'ok') {
      const children: Widget[] = [];
      if (check.warnings.length) {
        children.push(createWarnings(check.warnings));
      }
      const frame = createFrame(this._url, this._frameTitle);
      children.push(frame);
      const iframe = frame.node.querySelector('iframe');
      if (iframe && this._onFrame) {
        this._onFrame(iframe);
      }
      this._show('ok', children);
      return;
    }
    const retryLabel = check.kind === 'missing' ? 'Check again' : 'Retry';
    this._show(check.kind, [
      createMessage(check, retryLabel, () => void this.refresh())
    ]);
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
  private _ready: Promise<IStatusCheck>;
  private _lastCheck: IStatusCheck | null = null;
  private _state: PanelState = 'checking';
  private _generation = 0;
  private _statusChecked = new Signal<this, IStatusCheck>(this);
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
    /** Status check to run; defaults to a request to the server. */
    checkStatus?: () => Promise<IStatusCheck>;
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
