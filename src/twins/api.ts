/**
 * The twins part of the REST API, typed: the pairs of a folder and their
 * states, sync one pair, compare a pair's outputs.
 */
import { requestAPI, RequestFn } from '../request';

export type TwinState =
  | 'in-step'
  | 'notebook-changed'
  | 'marimo-changed'
  | 'conflict'
  | 'missing-notebook'
  | 'missing-marimo'
  | 'unrecorded'
  | 'no-twin';

export interface ITwinPair {
  ipynb: string;
  marimo: string;
  state: TwinState;
  description: string;
}

export interface ISyncAnswer {
  action: string;
  message: string;
  pair: ITwinPair;
}

export interface ICheckReport {
  summary: string;
  ok: boolean;
  text: string;
  pairs: unknown[];
}

export interface ISyncOptions {
  from?: 'ipynb' | 'marimo';
  force?: boolean;
  create?: boolean;
}

export class TwinsAPI {
  constructor(request: RequestFn = requestAPI) {
    this._request = request;
  }

  async list(folder: string): Promise<ITwinPair[]> {
    const query = new URLSearchParams({ path: folder || '.' }).toString();
    const answer = await this._request<{ pairs: ITwinPair[] }>(
      `twins?${query}`
    );
    return answer.pairs;
  }

  sync(path: string, options: ISyncOptions = {}): Promise<ISyncAnswer> {
    return this._request<ISyncAnswer>('twins/sync', {
      method: 'POST',
      body: JSON.stringify({ path, ...options })
    });
  }

  check(path: string): Promise<ICheckReport> {
    return this._request<ICheckReport>('twins/check', {
      method: 'POST',
      body: JSON.stringify({ path })
    });
  }

  private _request: RequestFn;
}
