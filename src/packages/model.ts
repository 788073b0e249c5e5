/**
 * State of the "Install package" sidebar: the venv's status, its packages,
 * the install/uninstall jobs and their logs, and marimo's restarts.
 *
 * The model talks to the server only through `PackagesAPI` and tells views
 * what changed through signals; it knows nothing of the DOM or of
 * notifications, so tests can drive it with a fake request helper.
 *
 * Jobs run one at a time on the server, in order. The model follows the
 * oldest unfinished job it knows with long-polls (`offset`/`wait`), which
 * streams its log line by line, then moves to the next one. That keeps one
 * request open at most, whatever the number of queued jobs.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage, httpStatus } from '../errors';
import { APIError } from '../request';
import { StatusStore } from '../statusStore';
import { IMarimoStatus, IServerStatus, IStatusCheck } from '../tokens';
import { IJob, IPackage, isFinished, PackagesAPI } from './api';
import { jobNoun } from './jobs';

/** What part of the state changed, so a view re-renders only that. */
export type ChangeKind =
  'status' | 'packages' | 'jobs' | 'filter' | 'install' | 'restart';

/** New log lines of a job. */
export interface ILogAppended {
  job: IJob;
  lines: string[];
}

/** A user action the server refused or that could not reach it. */
export interface IActionFailure {
  action: 'install' | 'uninstall' | 'cancel' | 'refresh' | 'repair';
  message: string;
  httpStatus: number | null;
}

export type InstallResult =
  { ok: true; job: IJob } | { ok: false; message: string };

/** How a restart went, in words for the user and with marimo's details. */
export interface IRestartOutcome {
  ok: boolean;
  message: string;
  /** marimo's status after the attempt, when the server sent it. */
  marimo: IMarimoStatus | null;
  /** Last lines of marimo's log when it failed to come back. */
  logTail: string | null;
  httpStatus: number | null;
}

/** marimo is stopped (never opened, or stopped when idle). */
export const NOT_RUNNING =
  'marimo is not running: it starts when you open it from the Launcher.';

/** A failed start, with the reason and the way out. */
export function failedStartMessage(marimo: IMarimoStatus): string {
  const reason = (marimo.error || 'it gave no reason').replace(/\.$/, '');
  return (
    `marimo failed to start: ${reason}. Fix the cause, then restart or ` +
    'open marimo to retry.'
  );
}

/** A package of the venv with the dependencies folded under it. */
export interface IPackageGroup {
  pkg: IPackage;
  dependencies: IPackage[];
}

/**
 * The venv's packages as the user thinks of them: what they asked for, what
 * marimo's Install button (or another tool) put there, each with the
 * dependencies that came with it folded under it. A dependency goes under
 * the first package (by name) that needs it, directly or through others.
 */
export function groupPackages(packages: readonly IPackage[]): {
  requested: IPackageGroup[];
  marimo: IPackageGroup[];
} {
  const user = packages.filter(p => p.source === 'user');
  const byName = new Map(user.map(p => [p.name, p]));
  const top = user.filter(p => (p.origin ?? 'requested') !== 'dependency');
  const groups = new Map<string, IPackageGroup>(
    top.map(p => [p.name, { pkg: p, dependencies: [] }])
  );
  for (const dep of user.filter(p => p.origin === 'dependency')) {
    // Walk up the required_by links to a package that is not a dependency.
    const seen = new Set<string>([dep.name]);
    let frontier = [...(dep.required_by ?? [])];
    let owner: string | null = null;
    while (frontier.length && !owner) {
      frontier.sort();
      owner = frontier.find(name => groups.has(name)) ?? null;
      const next: string[] = [];
      for (const name of frontier) {
        if (!seen.has(name)) {
          seen.add(name);
          next.push(...(byName.get(name)?.required_by ?? []));
        }
      }
      frontier = next.filter(name => !seen.has(name));
    }
    if (owner) {
      groups.get(owner)!.dependencies.push(dep);
    } else {
      // A cycle of dependencies with nothing above it: show it on its own.
      groups.set(dep.name, { pkg: dep, dependencies: [] });
    }
  }
  const all = [...groups.values()];
  for (const group of all) {
    group.dependencies.sort((a, b) => a.name.localeCompare(b.name));
  }
  return {
    requested: all.filter(g => g.pkg.origin !== 'marimo'),
    marimo: all.filter(g => g.pkg.origin === 'marimo')
  };
}

export const NOTHING_TO_INSTALL =
  'Type the name of a package to install, for example requests or pandas==2.2.3.';

export class PackagesModel implements IDisposable {
  constructor(options: PackagesModel.IOptions = {}) {
    this._api = options.api ?? new PackagesAPI();
    this._pollWait = options.pollWait ?? 20;
    this._retryDelay = options.retryDelay ?? 2000;
    this._maxFailures = options.maxFailures ?? 5;
    this._idleDelay = options.idleDelay ?? 1000;
    this._statusStore = options.status ?? null;
    // What a tab or the tile learnt about marimo shows here too.
    this._statusStore?.changed.connect(this._onSharedStatus, this);
  }

  /** Emitted with the part of the state that changed. */
  get changed(): ISignal<this, ChangeKind> {
    return this._changed;
  }

  /** Emitted with each batch of new log lines of a job. */
  get logAppended(): ISignal<this, ILogAppended> {
    return this._logAppended;
  }

  /** Emitted once per job seen running or queued, when it finishes. */
  get jobFinished(): ISignal<this, IJob> {
    return this._jobFinished;
  }

  /** Emitted when an action failed (refused by the server, or no answer). */
  get actionFailed(): ISignal<this, IActionFailure> {
    return this._actionFailed;
  }

  /** Emitted when a restart has finished, well or not. */
  get restartFinished(): ISignal<this, IRestartOutcome> {
    return this._restartFinished;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The latest status check, or null before the first one answered. */
  get check(): IStatusCheck | null {
    return this._check;
  }

  /** The server's status report when the server part is available. */
  get status(): IServerStatus | null {
    return this._check?.status ?? null;
  }

  /** Whether the server part answered (not missing, not failing). */
  get available(): boolean {
    return this._check?.kind === 'ok';
  }

  /** Whether a refresh is under way. */
  get loading(): boolean {
    return this._loading;
  }

  /** Why the package list could not be loaded, if it could not. */
  get packagesError(): string | null {
    return this._packagesError;
  }

  /** All packages, user's first, as the server listed them. */
  get packages(): readonly IPackage[] {
    return this._packages;
  }

  /** The user's packages that match the filter. */
  get userPackages(): IPackage[] {
    return this._packages.filter(p => p.source === 'user' && this.matches(p));
  }

  /** The base environment's packages that match the filter. */
  get basePackages(): IPackage[] {
    return this._packages.filter(p => p.source === 'base' && this.matches(p));
  }

  get filter(): string {
    return this._filter;
  }

  set filter(value: string) {
    if (value === this._filter) {
      return;
    }
    this._filter = value;
    this._changed.emit('filter');
  }

  /** Whether a package's name matches the filter. */
  matches(pkg: IPackage): boolean {
    const wanted = normalizeName(this._filter.trim());
    return !wanted || normalizeName(pkg.name).includes(wanted);
  }

  /** Known jobs, oldest first, each with its whole log as far as known. */
  get jobs(): IJob[] {
    return [...this._jobs.values()].sort((a, b) => a.created - b.created);
  }

  /**
   * The job whose log to show: the one running (or next to run), else the
   * last one that finished while we watched.
   */
  get currentJob(): IJob | null {
    const active = this._activeJob();
    if (active) {
      return active;
    }
    return this._lastFinished
      ? (this._jobs.get(this._lastFinished) ?? null)
      : null;
  }

  /** Jobs waiting behind the current one. */
  get pendingJobs(): IJob[] {
    const current = this._activeJob();
    return this.jobs.filter(job => job.state === 'queued' && job !== current);
  }

  /** The unfinished uninstall job for a package, if there is one. */
  uninstallJobFor(name: string): IJob | null {
    return (
      this.jobs.find(
        job =>
          job.kind === 'uninstall' &&
          !isFinished(job) &&
          job.specs.some(spec => normalizeName(spec) === normalizeName(name))
      ) ?? null
    );
  }

  /** The repair waiting or running, if there is one. */
  get repairJob(): IJob | null {
    return (
      this.jobs.find(job => job.kind === 'repair' && !isFinished(job)) ?? null
    );
  }

  /**
   * Whether the venv needs a repair: the server found it broken. A venv not
   * created yet is not broken (marimo's first start creates it).
   */
  get venvProblems(): string[] {
    const venv = this.status?.venv;
    if (!venv || venv.healthy) {
      return [];
    }
    return venv.problems.filter(
      problem => venv.exists || !/not been created/i.test(problem)
    );
  }

  /** Why the latest install request was refused, until the next one. */
  get installError(): string | null {
    return this._installError;
  }

  /** Whether an install request is on its way to the server. */
  get submitting(): boolean {
    return this._submitting;
  }

  /** Why following the jobs stopped, if it had to. */
  get followError(): string | null {
    return this._followError;
  }

  get restarting(): boolean {
    return this._restarting;
  }

  get lastRestart(): IRestartOutcome | null {
    return this._lastRestart;
  }

  /**
   * Load the status, then (when the server part is there) the packages and
   * the jobs. Unfinished jobs are followed from there on.
   */
  refresh(): Promise<void> {
    // Showing the sidebar refreshes; a second show must not double it.
    if (!this._refreshing) {
      this._refreshing = this._refresh().finally(() => {
        this._refreshing = null;
      });
    }
    return this._refreshing;
  }

  /** Load the package list again. */
  async refreshPackages(): Promise<void> {
    try {
      this._packages = await this._api.packages();
      this._packagesError = null;
    } catch (error) {
      this._packagesError = `Could not list the packages: ${errorMessage(error)}`;
    }
    if (!this._isDisposed) {
      this._changed.emit('packages');
    }
  }

  /**
   * Queue an install of the given specs. A refusal (invalid spec, 400) is
   * kept in `installError` and emitted as an action failure; nothing else
   * changes, so the caller can keep what the user typed.
   */
  async install(specs: string[]): Promise<InstallResult> {
    if (!specs.length) {
      return this._refuseInstall(NOTHING_TO_INSTALL, null);
    }
    this._submitting = true;
    this._installError = null;
    this._changed.emit('install');
    let job: IJob;
    try {
      job = await this._api.install(specs);
    } catch (error) {
      this._submitting = false;
      return this._refuseInstall(errorMessage(error), httpStatus(error));
    }
    this._submitting = false;
    this._merge(job, true);
    this._changed.emit('install');
    this._follow();
    return { ok: true, job: this._jobs.get(job.id)! };
  }

  /**
   * Queue an install of a requirements file in the Jupyter root (a contents
   * path). The job is followed like any install; a refusal (a file with
   * options, 400 naming the line) is emitted as an action failure and,
   * unlike a refused spec typed in the sidebar, leaves `installError` alone.
   */
  async installRequirements(path: string): Promise<InstallResult> {
    let job: IJob;
    try {
      job = await this._api.installRequirements(path);
    } catch (error) {
      const message = this._fail(
        'install',
        error,
        `Could not install the requirements in ${path}`
      );
      return { ok: false, message };
    }
    return { ok: true, job: this._track(job) };
  }

  /**
   * Queue a repair of the venv (rebuilt if broken, the recorded packages
   * reinstalled); null when it was refused. A repair already waiting or
   * running is returned instead of queuing a second one.
   */
  async repair(): Promise<IJob | null> {
    const pending = this.repairJob;
    if (pending) {
      return pending;
    }
    let job: IJob;
    try {
      job = await this._api.repair();
    } catch (error) {
      this._fail('repair', error, 'Could not repair the venv');
      return null;
    }
    return this._track(job);
  }

  /** Queue an uninstall of a user package; null when it was refused. */
  async uninstall(name: string): Promise<IJob | null> {
    let job: IJob;
    try {
      job = await this._api.uninstall(name);
    } catch (error) {
      this._fail('uninstall', error, `Could not uninstall ${name}`);
      return null;
    }
    this._merge(job, true);
    this._follow();
    return this._jobs.get(job.id)!;
  }

  /** Cancel a queued or running job; null when that was refused. */
  async cancel(id: string): Promise<IJob | null> {
    let job: IJob;
    try {
      job = await this._api.cancel(id);
    } catch (error) {
      this._fail('cancel', error, 'Could not cancel the job');
      if (httpStatus(error) === 409) {
        // It finished meanwhile: the follower will pick up how it ended.
        this._follow();
      }
      return null;
    }
    this._merge(job, true);
    this._follow();
    return this._jobs.get(job.id)!;
  }

  /** How many notebooks a restart would end; null when marimo cannot tell. */
  runningNotebooks(): Promise<number | null> {
    return this._api.runningNotebooks();
  }

  /** Restart marimo and wait until it is ready again (or failed). */
  async restart(): Promise<IRestartOutcome> {
    if (this._restarting && this._restartPromise) {
      return this._restartPromise;
    }
    this._restarting = true;
    this._changed.emit('restart');
    this._restartPromise = this._restart();
    const outcome = await this._restartPromise;
    this._restartPromise = null;
    this._restarting = false;
    this._lastRestart = outcome;
    if (!this._isDisposed) {
      this._changed.emit('restart');
      this._restartFinished.emit(outcome);
      // marimo's version or state may read differently now.
      void this._refreshStatus();
    }
    return outcome;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._statusStore?.changed.disconnect(this._onSharedStatus, this);
    Signal.clearData(this);
  }

  private async _refresh(): Promise<void> {
    this._loading = true;
    this._changed.emit('status');
    try {
      this._take(await this._askStatus());
      if (this._isDisposed) {
        return;
      }
      if (!this.available) {
        this._packages = [];
        this._packagesError = null;
        return;
      }
      await Promise.all([this.refreshPackages(), this._syncJobs()]);
    } finally {
      this._loading = false;
      if (!this._isDisposed) {
        this._changed.emit('status');
      }
    }
    this._follow();
  }

  private async _restart(): Promise<IRestartOutcome> {
    try {
      const marimo = await this._api.restart();
      const version = marimo.version ? ` (marimo ${marimo.version})` : '';
      return {
        ok: true,
        message: `marimo restarted and is ready${version}.`,
        marimo,
        logTail: null,
        httpStatus: 200
      };
    } catch (error) {
      const status = httpStatus(error);
      const body = error instanceof APIError ? error.body : null;
      if (isMarimoStatus(body)) {
        return {
          ok: false,
          message:
            'marimo did not come back after the restart: ' +
            (body.error || 'it gave no reason') +
            (body.error?.endsWith('.') ? '' : '.'),
          marimo: body,
          logTail: body.log_tail,
          httpStatus: status
        };
      }
      if (status === 409) {
        // Not running: say why from marimo's state (a failed start has a
        // reason and a log), not only that it is not running.
        await this._refreshStatus();
        const marimo = this.status?.marimo ?? null;
        if (marimo?.state === 'failed') {
          return {
            ok: false,
            message: failedStartMessage(marimo),
            marimo,
            logTail: marimo.log_tail,
            httpStatus: status
          };
        }
        return {
          ok: false,
          message: NOT_RUNNING,
          marimo,
          logTail: null,
          httpStatus: status
        };
      }
      return {
        ok: false,
        message: `Could not restart marimo: ${errorMessage(error)}`,
        marimo: null,
        logTail: null,
        httpStatus: status
      };
    }
  }

  private async _refreshStatus(): Promise<void> {
    const check = await this._askStatus();
    if (!this._isDisposed) {
      this._take(check);
      this._changed.emit('status');
    }
  }

  /** Ask for the status, through the shared one when there is one. */
  private _askStatus(): Promise<IStatusCheck> {
    return this._statusStore ? this._statusStore.check() : this._api.status();
  }

  /**
   * A new status becomes the model's. A failed restart is over once marimo
   * runs again (restarted, or opened after the cause was fixed): it must not
   * go on showing next to a running marimo.
   */
  private _take(check: IStatusCheck): void {
    if (this._statusStore && this._statusStore.latest !== check) {
      // An answer overtaken by a later one: the later one is the state.
      check = this._statusStore.latest ?? check;
    }
    this._check = check;
    const marimo = check.status?.marimo;
    if (
      this._lastRestart &&
      !this._lastRestart.ok &&
      !this._restarting &&
      marimo?.state === 'running' &&
      marimo.running
    ) {
      this._lastRestart = null;
      this._changed.emit('restart');
    }
  }

  private _onSharedStatus(_: StatusStore, check: IStatusCheck): void {
    if (this._isDisposed || check === this._check) {
      return;
    }
    this._take(check);
    this._changed.emit('status');
  }

  /** Take in a job started by an action of ours and follow it. */
  private _track(job: IJob): IJob {
    this._merge(job, true);
    this._follow();
    return this._jobs.get(job.id)!;
  }

  private _refuseInstall(
    message: string,
    status: number | null
  ): InstallResult {
    this._installError = message;
    this._changed.emit('install');
    this._actionFailed.emit({ action: 'install', message, httpStatus: status });
    return { ok: false, message };
  }

  private _fail(
    action: IActionFailure['action'],
    error: unknown,
    prefix: string
  ): string {
    const status = httpStatus(error);
    const text = errorMessage(error);
    // The server's 4xx messages are already sentences for the user.
    const message =
      status !== null && status >= 400 && status < 500
        ? text
        : `${prefix}: ${text}`;
    this._actionFailed.emit({ action, message, httpStatus: status });
    return message;
  }

  /** The oldest unfinished job: the one the server runs (or runs next). */
  private _activeJob(): IJob | null {
    return this.jobs.find(job => !isFinished(job)) ?? null;
  }

  /** Merge the server's list of jobs (states only; logs come by following). */
  private async _syncJobs(): Promise<void> {
    try {
      const jobs = await this._api.jobs();
      for (const job of jobs) {
        this._merge(job, false);
      }
    } catch (error) {
      // Not fatal: the jobs we follow are still followed.
      console.warn('jupyter-marimo-proxy: could not list jobs', error);
    }
  }

  /**
   * Fold a job answer into what we know. Log lines are appended where they
   * continue what we have (answers may overlap or repeat), and a job's
   * state never goes back (a late answer cannot un-finish a job).
   *
   * @param watched whether this answer comes from an action of ours, so
   *   its end is worth announcing even if it was quick.
   * @returns whether the answer brought news (lines or a state).
   */
  private _merge(incoming: IJob, watched: boolean): boolean {
    const known = this._jobs.get(incoming.id);
    const log = known ? known.log : [];
    const have = log.length;
    const end = incoming.offset + incoming.log.length;
    const fresh =
      incoming.offset <= have && end > have
        ? incoming.log.slice(have - incoming.offset)
        : [];
    log.push(...fresh);

    const wasFinished = known ? isFinished(known) : false;
    const keepOld = known && rank(known.state) > rank(incoming.state);
    const job: IJob = {
      ...(keepOld ? known! : incoming),
      log,
      offset: 0,
      next_offset: log.length
    };
    this._jobs.set(job.id, job);
    if (!known && (watched || !isFinished(incoming))) {
      this._watched.add(job.id);
    }
    if (this._isDisposed) {
      return false;
    }

    if (fresh.length) {
      this._logAppended.emit({ job, lines: fresh });
    }
    // New lines go out through logAppended alone: views redraw the job
    // lists only when a job appears or its state changes.
    const changed =
      !known || known.state !== job.state || known.message !== job.message;
    if (changed) {
      this._changed.emit('jobs');
    }
    if (
      isFinished(job) &&
      !wasFinished &&
      this._watched.has(job.id) &&
      !this._announced.has(job.id)
    ) {
      this._announced.add(job.id);
      this._lastFinished = job.id;
      this._finishedSinceRefresh = true;
      this._changed.emit('jobs');
      this._jobFinished.emit(job);
    }
    return changed || fresh.length > 0;
  }

  /** Start following unfinished jobs unless that is already going on. */
  private _follow(): void {
    if (this._following || this._isDisposed) {
      return;
    }
    this._following = this._followLoop().finally(() => {
      this._following = null;
    });
  }

  private async _followLoop(): Promise<void> {
    let failures = 0;
    while (!this._isDisposed) {
      const job = this._activeJob();
      if (!job) {
        break;
      }
      try {
        const answer = await this._api.job(
          job.id,
          job.log.length,
          this._pollWait,
          job.state
        );
        failures = 0;
        if (this._followError) {
          this._followError = null;
          this._changed.emit('jobs');
        }
        if (!this._merge(answer, false)) {
          // No news although the server should have held the answer until
          // there was some: something in between does not hold long-polls.
          // Do not turn that into a busy loop.
          await sleep(this._idleDelay);
        }
      } catch (error) {
        if (httpStatus(error) === 404) {
          // The server forgot the job (Jupyter restarted): stop showing it.
          this._jobs.delete(job.id);
          this._changed.emit('jobs');
          await this._syncJobs();
          this._finishedSinceRefresh = true;
          continue;
        }
        failures += 1;
        if (failures >= this._maxFailures) {
          this._followError =
            `Lost track of ${jobNoun(job)}: ` +
            `${errorMessage(error)}. Refresh to try again.`;
          this._changed.emit('jobs');
          break;
        }
        await sleep(this._retryDelay);
        continue;
      }
      const current = this._jobs.get(job.id);
      if (current && isFinished(current) && this._finishedSinceRefresh) {
        this._finishedSinceRefresh = false;
        // What is installed changed; other queued jobs may have been
        // cancelled from elsewhere meanwhile. A repair (or the startup
        // install, which may rebuild a broken venv) changes its health.
        const refreshes = [this.refreshPackages(), this._syncJobs()];
        if (
          current.kind === 'repair' ||
          current.kind === 'bootstrap' ||
          // The first install created the venv: its facts are known now.
          this.status?.venv.exists === false
        ) {
          refreshes.push(this._refreshStatus());
        }
        await Promise.all(refreshes);
      }
    }
    if (this._finishedSinceRefresh && !this._isDisposed) {
      this._finishedSinceRefresh = false;
      await this.refreshPackages();
    }
  }

  private _api: PackagesAPI;
  private _pollWait: number;
  private _retryDelay: number;
  private _maxFailures: number;
  private _idleDelay: number;
  private _isDisposed = false;
  private _check: IStatusCheck | null = null;
  private _loading = false;
  private _refreshing: Promise<void> | null = null;
  private _packages: IPackage[] = [];
  private _packagesError: string | null = null;
  private _filter = '';
  private _jobs = new Map<string, IJob>();
  private _watched = new Set<string>();
  private _announced = new Set<string>();
  private _lastFinished: string | null = null;
  private _finishedSinceRefresh = false;
  private _following: Promise<void> | null = null;
  private _followError: string | null = null;
  private _installError: string | null = null;
  private _submitting = false;
  private _restarting = false;
  private _restartPromise: Promise<IRestartOutcome> | null = null;
  private _lastRestart: IRestartOutcome | null = null;
  private _changed = new Signal<this, ChangeKind>(this);
  private _logAppended = new Signal<this, ILogAppended>(this);
  private _jobFinished = new Signal<this, IJob>(this);
  private _actionFailed = new Signal<this, IActionFailure>(this);
  private _restartFinished = new Signal<this, IRestartOutcome>(this);
  private _statusStore: StatusStore | null;
}

export namespace PackagesModel {
  export interface IOptions {
    /** The REST API; defaults to one on the real server. */
    api?: PackagesAPI;
    /** Seconds each long-poll of a job may wait for news (server max 30). */
    pollWait?: number;
    /** Milliseconds to wait before asking again after a failed poll. */
    retryDelay?: number;
    /** Failed polls in a row after which following stops. */
    maxFailures?: number;
    /** Milliseconds to wait after a poll that brought no news. */
    idleDelay?: number;
    /**
     * The status shared with the tile and the tabs: the model asks through
     * it and follows what the others learn. Without it, the model asks
     * `api.status()` and knows only its own answers.
     */
    status?: StatusStore;
  }
}

/** PEP 503 normalisation, so that "Typing_Extensions" finds typing-extensions. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function rank(state: IJob['state']): number {
  return state === 'queued' ? 0 : state === 'running' ? 1 : 2;
}

function isMarimoStatus(body: unknown): body is IMarimoStatus {
  return (
    !!body &&
    typeof body === 'object' &&
    typeof (body as IMarimoStatus).state === 'string' &&
    'running' in body
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
