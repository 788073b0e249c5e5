/**
 * What the extension does inside marimo's iframe. The frame is same-origin
 * (its sandbox allows it, marimo needs it), so once it has loaded we can:
 *
 * - keep marimo's own links in JupyterLab: a new window it opens (new
 *   notebook, a file from its home, "open in new tab") that points into our
 *   marimo routes becomes a Lab tab instead; other URLs open as before;
 * - tell marimo JupyterLab's theme: marimo 0.25 reads a `theme` URL
 *   parameter when it starts and watches `data-vscode-theme-kind` on its
 *   body (a MutationObserver), so a change of theme needs no reload;
 * - see whether marimo's page has arrived, or the launcher's page saying
 *   why marimo could not start.
 */
import { MARIMO_ROUTE } from '../tokens';

/** Route of `marimo run` (apps), beside the editor's. */
export const APPS_ROUTE = 'marimo-apps';

/** Where a URL opened from inside marimo points, if into our routes. */
export type MarimoTarget =
  | { kind: 'home' }
  | { kind: 'new' }
  | { kind: 'file'; path: string }
  | { kind: 'app'; path: string };

/**
 * Classify `href` (resolved against `base`, the frame's URL) as a page of
 * our marimo routes under Jupyter's `baseUrl` (a path like `/` or
 * `/user/x/`), or null for anything else. File paths are made relative to
 * `rootDir` (marimo may name them absolutely).
 */
export function classifyMarimoUrl(
  href: string,
  base: string,
  baseUrl: string,
  rootDir: string | null
): MarimoTarget | null {
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    return null;
  }
  if (url.origin !== new URL(base).origin) {
    return null;
  }
  const prefix = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const path = url.pathname;
  let route: string | null = null;
  for (const candidate of [APPS_ROUTE, MARIMO_ROUTE]) {
    if (path === `${prefix}${candidate}` || path === `${prefix}${candidate}/`) {
      route = candidate;
      break;
    }
  }
  if (!route) {
    return null;
  }
  const file = url.searchParams.get('file');
  if (!file) {
    return route === MARIMO_ROUTE ? { kind: 'home' } : null;
  }
  if (file.startsWith('__new__')) {
    return route === MARIMO_ROUTE ? { kind: 'new' } : null;
  }
  const relative = relativeToRoot(file, rootDir);
  if (relative === null) {
    return null;
  }
  const asApp =
    route === APPS_ROUTE || url.searchParams.get('view-as') === 'present';
  return asApp
    ? { kind: 'app', path: relative }
    : { kind: 'file', path: relative };
}

/** A marimo file parameter as a contents path, or null when outside the root. */
export function relativeToRoot(
  file: string,
  rootDir: string | null
): string | null {
  if (!file.startsWith('/')) {
    return file.replace(/^\.\//, '');
  }
  if (!rootDir) {
    return null;
  }
  const root = rootDir.replace(/\/+$/, '');
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : null;
}

/**
 * Send new windows and `target=_blank` links of the frame's page through
 * `handle`; when it returns true the default (a browser tab) is cancelled.
 * Call on each load of the frame (a new page has a new window object).
 */
export function hookNewWindows(
  iframe: HTMLIFrameElement,
  handle: (href: string, base: string) => boolean
): void {
  let win: (Window & typeof globalThis) | null = null;
  let doc: Document | null = null;
  try {
    win = iframe.contentWindow as (Window & typeof globalThis) | null;
    doc = iframe.contentDocument;
  } catch {
    return; // another origin: not ours to change
  }
  if (!win || !doc || (win as any).__jmpHooked) {
    return;
  }
  (win as any).__jmpHooked = true;
  const original = win.open.bind(win);
  const frameWindow = win;
  win.open = ((url?: string | URL, target?: string, features?: string) => {
    const href = url === undefined ? '' : String(url);
    if (
      href &&
      opensNewWindow(target ?? '_blank') &&
      handle(href, frameWindow.location.href)
    ) {
      return null;
    }
    return original(url as any, target, features);
  }) as typeof win.open;
  doc.addEventListener(
    'click',
    event => {
      const anchor = (event.target as Element | null)?.closest?.(
        'a[href]'
      ) as HTMLAnchorElement | null;
      if (!anchor) {
        return;
      }
      // marimo names the window of each file (`target="s_…-x.py"`): any
      // target but this frame's own is a new window.
      const newWindow =
        opensNewWindow(anchor.target) ||
        event.ctrlKey ||
        event.metaKey ||
        event.button === 1;
      if (newWindow && handle(anchor.href, frameWindow.location.href)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );
}

/**
 * Let marimo's page open its kernel websocket (a path ending in `/ws`) only
 * when `mayConnect` agrees. After marimo restarts, the old page reconnects
 * on its own, and the launcher holds that request until the new marimo
 * runs: the old page would then attach a session of its own (cells not
 * run) before the tab reloads. A refused attempt fails at once and marimo's
 * page tries again later. Call on each load of the frame.
 */
export function guardKernelSockets(
  iframe: HTMLIFrameElement,
  mayConnect: () => boolean
): void {
  let win: any = null;
  try {
    win = iframe.contentWindow;
  } catch {
    return;
  }
  if (!win || win.__jmpSockets || typeof win.WebSocket !== 'function') {
    return;
  }
  win.__jmpSockets = true;
  const Original = win.WebSocket;
  // The page's first kernel socket is its connection, never held up (the
  // guard is set at the load event, before marimo's page connects).
  let kernelSockets = 0;
  win.WebSocket = new Proxy(Original, {
    construct(target, args) {
      let socket: URL | null = null;
      try {
        socket = new URL(String(args[0]), win.location.href);
      } catch {
        socket = null;
      }
      const kernel = !!socket && /\/ws$/.test(socket.pathname);
      if (kernel && ++kernelSockets > 1 && !mayConnect()) {
        // Nothing listens there: the attempt fails without reaching marimo.
        const refused = new URL('/jupyter-marimo-proxy-wait', socket!);
        return Reflect.construct(target, [refused.href]);
      }
      return Reflect.construct(target, args);
    }
  });
}

/** Whether a link or `window.open` target names another window than the frame. */
export function opensNewWindow(target: string): boolean {
  return (
    !!target && !['_self', '_parent', '_top'].includes(target.toLowerCase())
  );
}

/** JupyterLab's theme as marimo's `theme` parameter. */
export type MarimoTheme = 'light' | 'dark';

/** `url` with marimo's `theme` parameter set. */
export function withTheme(url: string, theme: MarimoTheme | null): string {
  if (!theme || !url) {
    return url;
  }
  const [path, query = ''] = splitQuery(url);
  const params = new URLSearchParams(query);
  params.set('theme', theme);
  return `${path}?${params.toString()}`;
}

function splitQuery(url: string): [string, string] {
  const at = url.indexOf('?');
  return at < 0 ? [url, ''] : [url.slice(0, at), url.slice(at + 1)];
}

/** Tell marimo's page in `iframe` the theme (it follows without reloading). */
export function applyTheme(
  iframe: HTMLIFrameElement,
  theme: MarimoTheme | null
): void {
  let body: HTMLElement | null = null;
  try {
    body = iframe.contentDocument?.body ?? null;
  } catch {
    return;
  }
  if (!body || !theme) {
    return;
  }
  const kind = theme === 'dark' ? 'vscode-dark' : 'vscode-light';
  if (body.dataset.vscodeThemeKind !== kind) {
    body.dataset.vscodeThemeKind = kind;
  }
}

/** What the frame shows now. */
export type FrameContent =
  | { kind: 'loading' }
  | { kind: 'marimo'; serverToken: string | null }
  | { kind: 'failed'; error: string; log: string }
  | { kind: 'other'; text: string };

/**
 * marimo's page has rendered (its React root has content), the launcher's
 * failure page is there, some other page has finished loading, or nothing
 * yet.
 */
export function frameContent(iframe: HTMLIFrameElement): FrameContent {
  let doc: Document | null = null;
  try {
    doc = iframe.contentDocument;
  } catch {
    return { kind: 'other', text: '' };
  }
  if (!doc || !doc.body) {
    return { kind: 'loading' };
  }
  const error = doc.getElementById('marimo-proxy-error');
  if (error) {
    return {
      kind: 'failed',
      error: error.textContent ?? '',
      log: doc.getElementById('marimo-proxy-log')?.textContent ?? ''
    };
  }
  if (doc.querySelector('marimo-version')) {
    const root = doc.getElementById('root');
    if (root && root.childElementCount > 0 && (root.textContent ?? '').trim()) {
      const token =
        doc.querySelector('marimo-server-token')?.getAttribute('data-token') ??
        null;
      return { kind: 'marimo', serverToken: token };
    }
    return { kind: 'loading' };
  }
  // The empty page a frame has before its URL loads.
  if (doc.URL !== 'about:blank' && doc.readyState === 'complete') {
    return {
      kind: 'other',
      text: (doc.body.innerText ?? '').trim().slice(0, 600)
    };
  }
  return { kind: 'loading' };
}

/**
 * How often to look for the empty cell. Short, because marimo may put the
 * cursor in the first cell (`import marimo as mo`) as it renders, and keys
 * typed before the cursor moves land there.
 */
const FOCUS_POLL_MS = 50;
/** Cells that stopped appearing for this long are all there. */
const SETTLE_MS = 200;

/**
 * Put the cursor in the first empty cell of a notebook's editor, so that a
 * new notebook is ready to type in. Resolves with whether it found one
 * within `timeout` ms.
 */
export async function focusFirstEmptyCell(
  iframe: HTMLIFrameElement,
  timeout = 60000
): Promise<boolean> {
  const deadline = Date.now() + timeout;
  let seenEditors = -1;
  let countSince = Date.now();
  while (Date.now() < deadline && iframe.isConnected) {
    let doc: Document | null = null;
    try {
      doc = iframe.contentDocument;
    } catch {
      return false;
    }
    const editors = doc
      ? Array.from(
          doc.querySelectorAll<HTMLElement>(
            '[data-testid="cell-editor"] .cm-content'
          )
        )
      : [];
    // marimo renders cells one after another and fills each editor a moment
    // after it appears: an editor that is still loading looks empty too. So
    // wait until the cells stop appearing (or one shows its text), then take
    // the last empty one (a new notebook's first cell is `import marimo`).
    if (editors.length !== seenEditors) {
      seenEditors = editors.length;
      countSince = Date.now();
    }
    const settled =
      editors.length > 0 &&
      (Date.now() - countSince >= SETTLE_MS ||
        editors.some(editor => (editor.textContent ?? '').trim()));
    const empty = settled
      ? editors.filter(editor => !(editor.textContent ?? '').trim()).pop()
      : undefined;
    if (empty && doc) {
      // JupyterLab focuses a tab's node when it activates it, which can
      // come after marimo's page rendered: hold the cursor in the cell for
      // a moment, unless the user clicks somewhere first.
      let userActed = false;
      const acted = (): void => {
        userActed = true;
      };
      doc.addEventListener('pointerdown', acted, true);
      document.addEventListener('pointerdown', acted, true);
      const settleUntil = Date.now() + 1500;
      while (!userActed && iframe.isConnected && Date.now() < settleUntil) {
        if (document.activeElement !== iframe || doc.activeElement !== empty) {
          iframe.focus();
          empty.focus();
        }
        await new Promise(resolve => setTimeout(resolve, 100));
      }
      doc.removeEventListener('pointerdown', acted, true);
      document.removeEventListener('pointerdown', acted, true);
      return true;
    }
    await new Promise(resolve => setTimeout(resolve, FOCUS_POLL_MS));
  }
  return false;
}

/**
 * Which setting to look at for a launch failure, in the words of the
 * server's configuration (README: `c.MarimoProxy.*`).
 */
export function settingFor(error: string): string {
  if (/did not answer within/i.test(error)) {
    return 'c.MarimoProxy.startup_timeout';
  }
  if (/state directory/i.test(error)) {
    return 'c.MarimoProxy.state_dir (or $JUPYTER_MARIMO_PROXY_STATE_DIR)';
  }
  if (/venv/i.test(error)) {
    return 'c.MarimoProxy.base_python';
  }
  return 'c.MarimoProxy.extra_marimo_args';
}

/** The lines of a log worth showing: the last ones, tracebacks' ends first. */
export function importantLines(log: string, count = 12): string {
  const lines = log
    .split('\n')
    .map(line => line.replace(/\s+$/, ''))
    .filter(line => line.trim() && line.trim() !== '(empty)');
  const errors = lines.filter(line =>
    /error|exception|traceback|failed|denied/i.test(line)
  );
  const tail = lines.slice(-count);
  const picked = [
    ...errors.filter(line => !tail.includes(line)).slice(-4),
    ...tail
  ];
  return picked.join('\n');
}
