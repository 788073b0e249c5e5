/**
 * The one status of marimo every view follows: the Launcher tile, the
 * sidebar and the marimo tabs. Whoever asks the server (a tab before it
 * loads, a tab whose start just failed or succeeded, the sidebar's Refresh,
 * a restart) asks through here, and every view is told the answer, so that
 * no view keeps showing a state another one already knows is over.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { fetchStatus } from './status';
import { IStatusCheck } from './tokens';

export class StatusStore {
  constructor(fetch: () => Promise<IStatusCheck> = () => fetchStatus()) {
    this._fetch = fetch;
  }

  /** The answer to the latest request asked, or null before the first. */
  get latest(): IStatusCheck | null {
    return this._latest;
  }

  /** Emitted with each answer that becomes the latest. */
  get changed(): ISignal<this, IStatusCheck> {
    return this._changed;
  }

  /**
   * Ask the server once (never throws). The answer becomes the latest unless
   * a request asked after this one has answered already: answers that
   * arrive out of order never bring back an older state.
   */
  async check(): Promise<IStatusCheck> {
    const asked = ++this._asked;
    const answer = await this._fetch();
    if (asked > this._accepted) {
      this._accepted = asked;
      this._latest = answer;
      this._changed.emit(answer);
    }
    return answer;
  }

  private _fetch: () => Promise<IStatusCheck>;
  private _latest: IStatusCheck | null = null;
  private _asked = 0;
  private _accepted = 0;
  private _changed = new Signal<this, IStatusCheck>(this);
}

/** The status shared by the extension's plugins (they share one bundle). */
export const marimoStatus = new StatusStore();
