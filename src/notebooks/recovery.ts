/**
 * Tabs that recover. marimo can go away under an open tab: its own
 * shutdown button (the launcher then starts it again), "Restart marimo" in
 * the sidebar, a crash relaunch. The new marimo has a new server token, so
 * the old page only shows "Unauthorized" or "Failed to instantiate".
 *
 * While marimo tabs are open, the watcher asks the server which start of
 * marimo each route serves (`GET instances`, a file read on the server)
 * every few seconds; a tab loaded from an earlier start reloads itself as
 * soon as the new one runs, or says in one line what to do.
 */
import { requestAPI, RequestFn } from '../request';
import { MarimoPanel } from '../panel';

/** What `GET instances` says about one route. */
export interface IInstance {
  state: string;
  instance: string | null;
  error: string | null;
}

export type Instances = Record<string, IInstance>;

/** How often to ask while tabs are open (ms). */
export const WATCH_INTERVAL = 2500;

export class RecoveryWatcher {
  constructor(request: RequestFn = requestAPI, interval = WATCH_INTERVAL) {
    this._request = request;
    this._interval = interval;
  }

  /** Latest answer, if any. */
  get latest(): Instances | null {
    return this._latest;
  }

  /** A panel whose frame just showed marimo: remember which start it came from. */
  async track(panel: MarimoPanel): Promise<void> {
    this._panels.add(panel);
    panel.disposed.connect(() => this._panels.delete(panel));
    const instances = await this.check();
    const now = instances?.[panel.route];
    panel.instance = now?.instance ?? null;
    this._schedule();
  }

  /**
   * Whether the page in `panel` may open a new kernel websocket. A tracked
   * page that opens one again lost its marimo: the first attempt is refused
   * and the server asked; later ones pass once an answer asked for after
   * that attempt says the same marimo still runs (a network blip). When a
   * new marimo runs instead, the tab reloads (see `check`).
   */
  mayReconnect(panel: MarimoPanel): boolean {
    if (!this._panels.has(panel) || panel.instance === null) {
      return true; // not showing marimo yet: its first connection
    }
    const since = this._refusedSince.get(panel);
    if (since === undefined) {
      this._refusedSince.set(panel, Date.now());
      void this.check();
      return false;
    }
    const now = this._latest?.[panel.route];
    if (
      this._askedAt >= since &&
      now?.state === 'running' &&
      now.instance === panel.instance
    ) {
      this._refusedSince.delete(panel);
      return true;
    }
    void this.check();
    return false;
  }

  /** Ask once; tell every tracked panel whose marimo changed. */
  async check(): Promise<Instances | null> {
    let answer: Instances;
    const asked = Date.now();
    try {
      answer = await this._request<Instances>('instances');
    } catch {
      return null; // Jupyter unreachable: nothing to conclude
    }
    this._latest = answer;
    this._askedAt = Math.max(this._askedAt, asked);
    for (const panel of Array.from(this._panels)) {
      if (panel.isDisposed) {
        this._panels.delete(panel);
        continue;
      }
      const now = answer[panel.route];
      if (!now || panel.instance === null || !panel.frameReady) {
        if (now?.instance && panel.instance === null && panel.frameReady) {
          panel.instance = now.instance;
        }
        continue;
      }
      if (now.instance === panel.instance) {
        continue;
      }
      if (now.state === 'starting') {
        continue; // wait for it
      }
      if (now.state === 'running') {
        // The frame reloads; it is tracked again once marimo's page shows.
        this._panels.delete(panel);
        this._refusedSince.delete(panel);
        panel.instance = null;
      }
      panel.reconnect(now.state, now.error);
    }
    return answer;
  }

  private _schedule(): void {
    if (this._timer !== null) {
      return;
    }
    const tick = async (): Promise<void> => {
      this._timer = null;
      if (!this._panels.size) {
        return;
      }
      if (document.visibilityState !== 'hidden') {
        await this.check();
      }
      this._schedule();
    };
    this._timer = window.setTimeout(() => void tick(), this._interval);
  }

  private _request: RequestFn;
  private _interval: number;
  private _panels = new Set<MarimoPanel>();
  private _latest: Instances | null = null;
  private _askedAt = 0;
  private _refusedSince = new Map<MarimoPanel, number>();
  private _timer: number | null = null;
}
