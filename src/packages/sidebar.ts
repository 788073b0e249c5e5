/**
 * The "marimo packages" sidebar: a view of `PackagesModel`.
 *
 * Plain DOM in a Lumino widget. Each part (venv, install form, job log,
 * queue, package lists, restart) is built once and re-rendered alone when
 * the model says that part changed; the form is never rebuilt, so what the
 * user typed survives every update, and the log grows line by line rather
 * than being redrawn.
 *
 * Every text that comes from the server is set as text, never as HTML.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { buildIcon, LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { restartIcon } from '../icons';
import { createMessage } from '../panel';
import { IJob, IPackage, isFinished } from './api';
import { jobAction, jobProgress } from './jobs';
import {
  ChangeKind,
  failedStartMessage,
  groupPackages,
  ILogAppended,
  IPackageGroup,
  NOT_RUNNING,
  PackagesModel
} from './model';
import { splitSpecs } from './specs';

/** The sidebar's title: it shows the environment and restarts marimo too. */
export const SIDEBAR_TITLE = 'marimo packages';

/** A question before an action that destroys work. */
export interface IConfirmation {
  title: string;
  body: string;
  /** The label of the button that goes ahead (Cancel is focused). */
  accept: string;
}

/** Ask in a JupyterLab dialog, the safe choice (Cancel) focused. */
export async function confirmWithDialog(
  question: IConfirmation
): Promise<boolean> {
  const result = await showDialog({
    title: question.title,
    body: question.body,
    buttons: [
      Dialog.cancelButton({ label: 'Cancel' }),
      Dialog.warnButton({ label: question.accept })
    ],
    defaultButton: 0
  });
  return result.button.accept;
}

/** What the restart dialog says, from the number of running notebooks. */
export function restartQuestion(running: number | null): IConfirmation {
  const kept = 'Their files are kept; marimo tabs reconnect when it is back.';
  let body: string;
  if (running === null) {
    body = `This ends every running marimo notebook and its variables. ${kept}`;
  } else if (running === 0) {
    body = 'No marimo notebook is running, so no work is lost.';
  } else {
    const notebooks =
      running === 1 ? '1 running notebook' : `${running} running notebooks`;
    body = `This ends ${notebooks} and their variables. ${kept}`;
  }
  return { title: 'Restart marimo?', body, accept: 'Restart' };
}

/** What the uninstall dialog says. */
export function uninstallQuestion(
  pkg: IPackage,
  dependencies: number
): IConfirmation {
  const stay =
    dependencies > 0
      ? ` The ${dependencies === 1 ? 'package' : `${dependencies} packages`} that came with it stay${dependencies === 1 ? 's' : ''} installed.`
      : '';
  return {
    title: `Uninstall ${pkg.name} ${pkg.version}?`,
    body:
      `${pkg.name} is removed from the marimo venv; notebooks that import ` +
      `it fail until it is installed again.${stay}`,
    accept: 'Uninstall'
  };
}

/** CSS classes the browser tests rely on. */
export namespace CSS {
  export const panel = 'jp-MarimoPackages';
  export const toolbar = 'jp-MarimoPackages-toolbar';
  export const refresh = 'jp-MarimoPackages-refresh';
  /** marimo's state when it is not simply running, and restart outcomes. */
  export const marimoStatus = 'jp-MarimoPackages-restartStatus';
  export const command = 'jp-MarimoPackages-command';
  export const dependencies = 'jp-MarimoPackages-dependencies';
  export const fromMarimo = 'jp-MarimoPackages-fromMarimo';
  export const openMarimo = 'jp-MarimoPackages-openMarimo';
  export const specs = 'jp-MarimoPackages-specs';
  export const install = 'jp-MarimoPackages-install';
  export const cancel = 'jp-MarimoPackages-cancel';
  export const log = 'jp-MarimoPackages-log';
  export const user = 'jp-MarimoPackages-user';
  export const base = 'jp-MarimoPackages-base';
  export const filter = 'jp-MarimoPackages-filter';
  export const restart = 'jp-MarimoPackages-restart';
  export const repair = 'jp-MarimoPackages-repair';
  /** The warning shown when the server found the venv broken. */
  export const venvWarning = 'jp-MarimoPackages-venvWarning';
  export const uninstall = 'jp-MarimoPackages-uninstall';
  export const queue = 'jp-MarimoPackages-queue';
  export const cancelQueued = 'jp-MarimoPackages-cancelQueued';
  export const error = 'jp-MarimoPackages-error';
}

/** How close to the bottom (px) counts as "following" the log. */
const STICKY_SCROLL = 8;

export class PackagesSidebar extends Widget {
  constructor(options: PackagesSidebar.IOptions) {
    super();
    this.model = options.model;
    this._confirm = options.confirm ?? confirmWithDialog;
    this._openMarimo = options.openMarimo ?? null;
    this.addClass(CSS.panel);
    this.node.append(this._buildHeader(), this._unavailable, this._body);
    this._body.append(
      this._buildMarimo(),
      this._buildVenv(),
      this._buildForm(),
      this._buildJob(),
      this._buildQueue(),
      this._buildPackages()
    );
    this.model.changed.connect(this._onChanged, this);
    this.model.logAppended.connect(this._onLog, this);
    this.model.jobFinished.connect(this._onJobFinished, this);
    this._renderAll();
  }

  readonly model: PackagesModel;

  /** The requirement field, for commands that want to focus it. */
  get specsField(): HTMLTextAreaElement {
    return this._specs;
  }

  /**
   * Install what the field holds. The text stays until the install has
   * succeeded: a refused spec or a failed install keeps what was typed.
   */
  async install(): Promise<void> {
    const text = this._specs.value;
    const result = await this.model.install(splitSpecs(text));
    if (result.ok) {
      this._submitted = { id: result.job.id, text };
    }
  }

  /** Ask, then restart marimo; false when the user said no. */
  async restart(): Promise<boolean> {
    const running = await this.model.runningNotebooks();
    if (!(await this._confirm(restartQuestion(running)))) {
      return false;
    }
    await this.model.restart();
    return true;
  }

  /** Ask, then uninstall a package of the venv; false when the user said no. */
  async uninstall(pkg: IPackage, dependencies = 0): Promise<boolean> {
    if (!(await this._confirm(uninstallQuestion(pkg, dependencies)))) {
      return false;
    }
    return (await this.model.uninstall(pkg.name)) !== null;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onChanged, this);
    this.model.logAppended.disconnect(this._onLog, this);
    this.model.jobFinished.disconnect(this._onJobFinished, this);
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.model.refresh();
  }

  protected onAfterAttach(): void {
    if (this.isVisible) {
      void this.model.refresh();
    }
  }

  protected onActivateRequest(): void {
    if (this.isAttached && this.model.available) {
      this._specs.focus();
    }
  }

  // -- building (once) ----------------------------------------------------

  private _buildHeader(): HTMLElement {
    const header = el('header', 'jp-MarimoPackages-header');
    const title = el('h2', 'jp-MarimoPackages-title');
    title.textContent = SIDEBAR_TITLE;
    const toolbar = el('div', `${CSS.toolbar} jp-Toolbar`);
    toolbar.setAttribute('role', 'toolbar');
    toolbar.setAttribute('aria-label', 'marimo packages');
    this._refreshButton.addEventListener(
      'click',
      () => void this.model.refresh()
    );
    this._restartButton.addEventListener('click', () => {
      this._restartButton.disabled = true;
      void this.restart().finally(() => this._renderRestart());
    });
    this._repairButton.addEventListener('click', () => this._repair());
    this._repairNow.addEventListener('click', () => this._repair());
    toolbar.append(
      this._refreshButton,
      this._restartButton,
      this._repairButton
    );
    header.append(title, toolbar);
    return header;
  }

  private _buildMarimo(): HTMLElement {
    this._marimoStatus.setAttribute('role', 'status');
    this._openButton.addEventListener('click', () => this._openMarimo?.());
    this._marimoSection.append(
      this._marimoStatus,
      this._openButton,
      this._restartLogDetails
    );
    const summary = el('summary');
    summary.textContent = "marimo's log";
    this._restartLogDetails.append(summary, this._restartLog);
    return this._marimoSection;
  }

  private _buildVenv(): HTMLElement {
    this._venv.setAttribute('aria-label', 'Environment');
    return this._venv;
  }

  private _buildForm(): HTMLElement {
    const form = el('form', 'jp-MarimoPackages-form');
    const label = el('label', 'jp-MarimoPackages-label');
    const id = `${CSS.specs}-${Private.nextId()}`;
    label.htmlFor = id;
    label.textContent = 'Packages to install, one per line';
    this._specs.id = id;
    this._specs.className = `${CSS.specs} jp-mod-styled`;
    this._specs.rows = 3;
    this._specs.spellcheck = false;
    this._specs.placeholder = 'requests\npandas==2.2.3';
    this._specs.title =
      'Requirement specs such as requests, pandas==2.2.3 or rich[jupyter]>=13; ' +
      'names alone may share a line. Ctrl+Enter installs.';
    this._specs.addEventListener('keydown', event => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.install();
      }
    });
    this._installButton.type = 'submit';
    const actions = el('div', 'jp-MarimoPackages-actions');
    actions.append(this._installButton);
    this._formError.setAttribute('role', 'alert');
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.install();
    });
    form.append(label, this._specs, actions, this._formError);
    return form;
  }

  private _buildJob(): HTMLElement {
    this._job.setAttribute('aria-label', 'Installer output');
    const header = el('div', 'jp-MarimoPackages-jobHeader');
    this._cancelButton.addEventListener('click', () => {
      const job = this.model.currentJob;
      if (job && !isFinished(job)) {
        this._cancelButton.disabled = true;
        void this.model.cancel(job.id);
      }
    });
    this._jobTitle.setAttribute('role', 'status');
    header.append(this._jobTitle, this._cancelButton);
    this._log.setAttribute('role', 'log');
    this._log.tabIndex = 0;
    this._job.append(header, this._log);
    return this._job;
  }

  private _buildQueue(): HTMLElement {
    const title = el('h3', 'jp-MarimoPackages-sectionTitle');
    title.textContent = 'Waiting to run';
    this._queueSection.append(title, this._queue);
    return this._queueSection;
  }

  private _buildPackages(): HTMLElement {
    const section = el('section', 'jp-MarimoPackages-packages');
    this._filter.type = 'search';
    this._filter.className = `${CSS.filter} jp-mod-styled`;
    this._filter.placeholder = 'Filter packages';
    this._filter.setAttribute('aria-label', 'Filter packages');
    this._filter.addEventListener('input', () => {
      this.model.filter = this._filter.value;
    });
    const baseSummary = el('summary', 'jp-MarimoPackages-baseSummary');
    baseSummary.append(this._baseTitle);
    this._baseDetails.append(baseSummary, this._baseEmpty, this._baseList);
    this._marimoTitle.title =
      "Installed by marimo's Install button (or another tool), not from " +
      'this panel: a repair does not reinstall them.';
    section.append(
      this._filter,
      this._userTitle,
      this._packagesError,
      this._userList,
      this._userEmpty,
      this._marimoTitle,
      this._marimoList,
      this._baseDetails
    );
    return section;
  }

  private _repair(): void {
    this._repairButton.disabled = true;
    this._repairNow.disabled = true;
    void this.model.repair().finally(() => this._renderRepair());
  }

  // -- rendering ----------------------------------------------------------

  private _onChanged(_: PackagesModel, kind: ChangeKind): void {
    switch (kind) {
      case 'status':
        this._renderStatus();
        this._renderRestart();
        this._renderRepair();
        break;
      case 'packages':
      case 'filter':
        this._renderPackages();
        break;
      case 'jobs':
        this._renderJobs();
        this._renderPackages();
        this._renderRepair();
        break;
      case 'install':
        this._renderForm();
        this._renderJobs();
        break;
      case 'restart':
        this._renderRestart();
        break;
    }
  }

  private _onJobFinished(_: PackagesModel, job: IJob): void {
    const submitted = this._submitted;
    if (!submitted || submitted.id !== job.id) {
      return;
    }
    this._submitted = null;
    // Only a success empties the field, and only if it still holds what
    // was installed (the user may have typed the next one meanwhile).
    if (job.state === 'succeeded' && this._specs.value === submitted.text) {
      this._specs.value = '';
    }
  }

  private _onLog(_: PackagesModel, { job, lines }: ILogAppended): void {
    if (job.id !== this._shownJob) {
      // A job the log does not show yet: the next render shows it whole.
      return;
    }
    const follow = this._isScrolledDown();
    this._appendLog(lines);
    if (follow) {
      this._log.scrollTop = this._log.scrollHeight;
    }
  }

  /**
   * Log lines as the user reads them: the installer's output as text, our
   * own command lines (`$ ...`, with absolute paths) folded in a details
   * part that says what it is.
   */
  private _appendLog(lines: string[]): void {
    for (const line of lines) {
      if (line.startsWith('$ ')) {
        const details = el('details', CSS.command);
        const summary = el('summary');
        summary.textContent = 'Installer command';
        const code = el('code');
        code.textContent = line.slice(2);
        details.append(summary, code);
        this._log.append(details);
        this._logChunk = null;
        continue;
      }
      if (!this._logChunk) {
        this._logChunk = el('span', 'jp-MarimoPackages-logText');
        this._log.append(this._logChunk);
      }
      this._logChunk.append(document.createTextNode(line + '\n'));
    }
  }

  private _renderAll(): void {
    this._renderStatus();
    this._renderForm();
    this._renderJobs();
    this._renderPackages();
    this._renderRestart();
    this._renderRepair();
  }

  private _renderStatus(): void {
    const { check } = this.model;
    this.node.dataset.status = check ? check.kind : 'checking';
    this.node.classList.toggle('jp-mod-loading', this.model.loading);
    this._refreshButton.disabled = this.model.loading;

    this._unavailable.replaceChildren();
    const unavailable = !!check && check.kind !== 'ok';
    this._unavailable.hidden = !unavailable;
    this._body.hidden = unavailable;
    if (unavailable) {
      const retryLabel = check!.kind === 'missing' ? 'Check again' : 'Retry';
      const message = createMessage(check!, retryLabel, () => {
        void this.model.refresh();
      });
      this._unavailable.append(message.node);
      return;
    }

    const venvSection = this._venv;
    venvSection.replaceChildren();
    const status = this.model.status;
    if (!status) {
      const waiting = el('p', 'jp-MarimoPackages-muted');
      waiting.textContent = 'Checking the environment…';
      venvSection.append(waiting);
      return;
    }
    const { venv, installer, marimo } = status;
    const list = el('dl', 'jp-MarimoPackages-facts');
    const installerText = installer.version
      ? `${installer.name} ${installer.version}`
      : installer.name;
    const rows: [string, string, string][] = [
      ['Environment', venv.path, 'path'],
      ['Python', venv.python_version ?? 'not known yet', 'python'],
      ['Installer', installerText, 'installer'],
      ['marimo', venv.marimo_version ?? marimo.version ?? 'not found', 'marimo']
    ];
    for (const [term, value, key] of rows) {
      const dt = el('dt');
      dt.textContent = term;
      const dd = el('dd');
      dd.dataset.fact = key;
      // Its own box, so that a path cut short on the left (see the CSS)
      // still reads left to right.
      const text = el('span', 'jp-MarimoPackages-factValue');
      text.textContent = value;
      dd.append(text);
      dd.title = value;
      list.append(dt, dd);
    }
    venvSection.append(list);
    if (!venv.exists) {
      venvSection.append(
        note(
          'The environment is created when marimo first opens or at the ' +
            'first install.'
        )
      );
    }
    // A broken venv (not one that is merely not created yet, said above)
    // gets a warning with the way out.
    const problems = this.model.venvProblems;
    if (problems.length) {
      const warning = el('div', `${CSS.venvWarning} jp-mod-warning`);
      warning.setAttribute('role', 'alert');
      const title = el('p', 'jp-MarimoPackages-venvWarningTitle');
      title.textContent = 'The marimo venv has problems:';
      const list = el('ul', 'jp-MarimoPackages-problems');
      for (const problem of problems) {
        const item = el('li');
        item.textContent = problem;
        list.append(item);
      }
      const hint = el('p', 'jp-MarimoPackages-muted');
      hint.textContent =
        'Repair venv rebuilds it and reinstalls the packages you installed.';
      warning.append(title, list, hint, this._repairNow);
      venvSection.append(warning);
    }
  }

  private _renderRepair(): void {
    const job = this.model.repairJob;
    const broken = this.model.venvProblems.length > 0;
    const label = job
      ? job.state === 'queued'
        ? 'Repair queued…'
        : 'Repairing venv…'
      : 'Repair venv';
    this._repairButton.disabled = !this.model.available || !!job;
    setTool(
      this._repairButton,
      label,
      job
        ? label
        : 'Repair venv: rebuild the marimo venv if it is broken, then ' +
            'reinstall the packages you installed'
    );
    this._repairButton.classList.toggle('jp-mod-attention', broken);
    this._repairNow.disabled = this._repairButton.disabled;
    this._repairNow.textContent = label;
  }

  private _renderForm(): void {
    const { submitting, installError } = this.model;
    this._installButton.disabled = submitting;
    this._installButton.textContent = submitting ? 'Queuing…' : 'Install';
    this._formError.hidden = !installError;
    this._formError.textContent = installError ?? '';
    this._specs.classList.toggle('jp-mod-invalid', !!installError);
  }

  private _renderJobs(): void {
    const job = this.model.currentJob;
    // A refused spec is the news now: an older finished log would read as
    // if it belonged to it.
    const stale = !!this.model.installError && (!job || isFinished(job));
    this._job.hidden = stale || (!job && !this.model.followError);
    if (job?.id !== this._shownJob) {
      this._shownJob = job?.id ?? null;
      this._log.replaceChildren();
      this._logChunk = null;
      this._appendLog(job?.log ?? []);
      this._log.scrollTop = this._log.scrollHeight;
    }
    if (job) {
      this._job.dataset.state = job.state;
      this._job.dataset.job = job.id;
      this._cancelButton.hidden = isFinished(job);
      if (isFinished(job)) {
        this._cancelButton.disabled = false;
      }
    }
    // One line: what is going on, or how it ended.
    const title = this.model.followError ?? (job ? jobTitle(job) : '');
    this._jobTitle.textContent = title;
    this._jobTitle.title = title;
    this._jobTitle.dataset.state = this.model.followError
      ? 'failed'
      : (job?.state ?? '');

    const pending = this.model.pendingJobs;
    this._queueSection.hidden = pending.length === 0;
    this._queue.replaceChildren(
      ...pending.map(p => {
        const item = el('li', 'jp-MarimoPackages-queued');
        item.dataset.job = p.id;
        const text = el('span', 'jp-MarimoPackages-queuedText');
        text.textContent = jobAction(p);
        text.title = text.textContent;
        const cancel = button('Cancel', CSS.cancelQueued);
        cancel.title = 'Remove from the queue';
        cancel.addEventListener('click', () => {
          cancel.disabled = true;
          void this.model.cancel(p.id);
        });
        item.append(text, cancel);
        return item;
      })
    );
  }

  private _renderPackages(): void {
    const all = this.model.packages;
    const filtering = !!this.model.filter.trim();
    const groups = groupPackages(all);
    const visible = (group: IPackageGroup): boolean =>
      this.model.matches(group.pkg) ||
      group.dependencies.some(d => this.model.matches(d));
    const requested = groups.requested.filter(visible);
    const marimo = groups.marimo.filter(visible);
    const base = this.model.basePackages;
    const baseTotal = all.filter(p => p.source === 'base').length;

    this._userTitle.textContent = `Installed by you (${countText(requested.length, groups.requested.length, filtering)})`;
    this._marimoTitle.textContent = `Installed from marimo (${countText(marimo.length, groups.marimo.length, filtering)})`;
    this._marimoTitle.hidden = groups.marimo.length === 0;
    this._baseTitle.textContent = `Provided by Jupyter's environment (${countText(base.length, baseTotal, filtering)})`;

    const listError = this.model.packagesError;
    this._packagesError.hidden = !listError;
    this._packagesError.textContent = listError ?? '';

    this._userList.replaceChildren(...requested.map(g => this._userRow(g)));
    this._marimoList.replaceChildren(...marimo.map(g => this._userRow(g)));
    this._userEmpty.hidden = requested.length > 0 || !!listError;
    this._userEmpty.textContent = filtering
      ? 'None of your packages match the filter.'
      : 'You have not installed any packages yet.';

    this._baseList.replaceChildren(...base.map(p => packageRow(p)));
    this._baseEmpty.hidden = base.length > 0 || !filtering;
    this._baseEmpty.textContent = 'None match the filter.';
  }

  private _userRow(group: IPackageGroup): HTMLElement {
    const { pkg, dependencies } = group;
    const row = packageRow(pkg);
    if (pkg.origin === 'marimo') {
      row.classList.add(CSS.fromMarimo);
    }
    if (pkg.origin === 'dependency') {
      const needed = pkg.required_by?.join(', ') ?? '';
      row.title = `A dependency of ${needed}`;
    }
    const uninstall = button('Uninstall', CSS.uninstall);
    uninstall.title = `Uninstall ${pkg.name} from the marimo environment`;
    uninstall.setAttribute('aria-label', `Uninstall ${pkg.name}`);
    const job = this.model.uninstallJobFor(pkg.name);
    if (job) {
      uninstall.disabled = true;
      uninstall.textContent =
        job.state === 'queued' ? 'Queued' : 'Uninstalling…';
    }
    uninstall.addEventListener('click', () => {
      uninstall.disabled = true;
      void this.uninstall(pkg, dependencies.length).then(started => {
        if (!started) {
          uninstall.disabled = false;
        }
      });
    });
    row.append(uninstall);
    if (!dependencies.length) {
      return row;
    }
    // The dependencies that came with it, folded under it.
    const item = el('li', 'jp-MarimoPackages-group');
    item.dataset.group = pkg.name;
    const row2 = row;
    // The row is a list item of its own kind: keep it as the first line.
    const head = el('div', row2.className);
    head.dataset.package = pkg.name;
    head.title = row2.title;
    head.append(...Array.from(row2.childNodes));
    const details = el('details', CSS.dependencies);
    const summary = el('summary');
    summary.textContent =
      dependencies.length === 1
        ? 'with 1 dependency'
        : `with ${dependencies.length} dependencies`;
    const list = el('ul', 'jp-MarimoPackages-list');
    for (const dep of dependencies) {
      const depRow = packageRow(dep);
      depRow.title = `Needed by ${dep.required_by?.join(', ') ?? pkg.name}`;
      list.append(depRow);
    }
    details.append(summary, list);
    if (
      this.model.filter.trim() &&
      dependencies.some(d => this.model.matches(d))
    ) {
      details.open = true;
    }
    item.append(head, details);
    return item;
  }

  private _renderRestart(): void {
    const { restarting, lastRestart } = this.model;
    const marimo = this.model.status?.marimo ?? null;
    const running = !!marimo && (marimo.running || marimo.state === 'starting');
    const failed = marimo?.state === 'failed';
    // After a failed start, a restart is the way to try again.
    const canRestart = running || failed || !marimo;
    this._restartButton.disabled =
      restarting || !this.model.available || !canRestart;
    setTool(
      this._restartButton,
      restarting ? 'Restarting marimo…' : 'Restart marimo',
      restarting
        ? 'Restarting marimo…'
        : failed
          ? 'Restart marimo: try to start it again'
          : canRestart
            ? 'Restart marimo: ends its running notebooks; its tabs reconnect'
            : 'marimo is not running: open it from the Launcher'
    );
    this._restartButton.classList.toggle('jp-mod-running', restarting);

    // One line on marimo, shown only when there is something to say.
    let text = '';
    let state = '';
    let tail: string | null = null;
    if (restarting) {
      text = 'Restarting marimo: waiting until it answers again…';
      state = 'restarting';
    } else if (marimo?.state === 'failed') {
      text = failedStartMessage(marimo);
      state = 'failed';
      tail = marimo.log_tail;
    } else if (lastRestart && !lastRestart.ok && !running) {
      // (A failed restart is over once marimo runs again.)
      text = lastRestart.message;
      state = 'failed';
      tail = lastRestart.logTail;
    } else if (lastRestart?.ok && running) {
      text = lastRestart.message;
      state = 'ok';
    } else if (marimo && !running) {
      text = NOT_RUNNING;
    }
    this._marimoSection.hidden = !text;
    this._marimoStatus.textContent = text;
    this._marimoStatus.dataset.state = state;
    this._openButton.hidden =
      !this._openMarimo || !marimo || running || restarting;
    this._openButton.textContent =
      marimo?.state === 'failed' ? 'Open marimo to retry' : 'Open marimo';
    this._restartLogDetails.hidden = !tail;
    this._restartLog.textContent = tail ?? '';
  }

  private _isScrolledDown(): boolean {
    const log = this._log;
    return log.scrollHeight - log.scrollTop - log.clientHeight <= STICKY_SCROLL;
  }

  private _confirm: (question: IConfirmation) => Promise<boolean>;
  private _openMarimo: (() => void) | null;
  private _submitted: { id: string; text: string } | null = null;
  private _unavailable = el('div', 'jp-MarimoPackages-unavailable');
  private _body = el('div', 'jp-MarimoPackages-body');
  private _refreshButton = tool(
    refreshIcon,
    CSS.refresh,
    'Refresh',
    'Check the environment and list its packages again'
  );
  private _restartButton = tool(restartIcon, CSS.restart, 'Restart marimo', '');
  private _repairButton = tool(buildIcon, CSS.repair, 'Repair venv', '');
  private _repairNow = button(
    'Repair venv',
    'jp-MarimoPackages-repairNow',
    'jp-mod-accept'
  );
  private _marimoSection = el('section', 'jp-MarimoPackages-marimo');
  private _marimoStatus = el('p', CSS.marimoStatus);
  private _openButton = button('Open marimo', CSS.openMarimo);
  private _restartLogDetails = el(
    'details',
    'jp-MarimoPackages-restartLogDetails'
  );
  private _restartLog = el('pre', 'jp-MarimoPackages-restartLog');
  private _venv = el('section', 'jp-MarimoPackages-venv');
  private _specs = document.createElement('textarea');
  private _installButton = button('Install', CSS.install, 'jp-mod-accept');
  private _formError = el('p', CSS.error);
  private _job = el('section', 'jp-MarimoPackages-job');
  private _jobTitle = el('span', 'jp-MarimoPackages-jobTitle');
  private _cancelButton = button('Cancel', CSS.cancel, 'jp-mod-warn');
  private _log = el('div', CSS.log);
  private _logChunk: HTMLElement | null = null;
  private _shownJob: string | null = null;
  private _queueSection = el('section', 'jp-MarimoPackages-queueSection');
  private _queue = el('ul', CSS.queue);
  private _filter = document.createElement('input');
  private _userTitle = el('h3', 'jp-MarimoPackages-sectionTitle');
  private _packagesError = el('p', CSS.error);
  private _userList = el('ul', `${CSS.user} jp-MarimoPackages-list`);
  private _userEmpty = el('p', 'jp-MarimoPackages-muted');
  private _marimoTitle = el('h3', 'jp-MarimoPackages-sectionTitle');
  private _marimoList = el(
    'ul',
    `${CSS.user} ${CSS.fromMarimo}List jp-MarimoPackages-list`
  );
  private _baseDetails = el('details', 'jp-MarimoPackages-baseSection');
  private _baseTitle = el('span', 'jp-MarimoPackages-sectionTitle');
  private _baseList = el('ul', `${CSS.base} jp-MarimoPackages-list`);
  private _baseEmpty = el('p', 'jp-MarimoPackages-muted');
}

export namespace PackagesSidebar {
  export interface IOptions {
    model: PackagesModel;
    /** Ask before destroying work; defaults to a JupyterLab dialog. */
    confirm?: (question: IConfirmation) => Promise<boolean>;
    /** Open marimo's tab (which retries a failed start). */
    openMarimo?: () => void;
  }
}

function jobTitle(job: IJob): string {
  switch (job.state) {
    case 'queued':
      return `${jobAction(job)}: waiting to start…`;
    case 'running':
      return `${jobProgress(job)}…`;
    default:
      return job.message || `${jobAction(job)}: ${job.state}`;
  }
}

/** An icon button of the panel's toolbar, as JupyterLab draws them. */
function tool(
  icon: LabIcon,
  className: string,
  label: string,
  caption: string
): HTMLButtonElement {
  const node = el(
    'button',
    `jp-ToolbarButtonComponent jp-Button jp-mod-minimal jp-MarimoPackages-tool ${className}`
  );
  node.type = 'button';
  node.append(
    icon.element({ tag: 'span', className: 'jp-ToolbarButtonComponent-icon' })
  );
  setTool(node, label, caption || label);
  return node;
}

function setTool(
  node: HTMLButtonElement,
  label: string,
  caption: string
): void {
  node.setAttribute('aria-label', label);
  node.title = caption;
  node.dataset.label = label;
}

function countText(shown: number, total: number, filtering: boolean): string {
  return filtering ? `${shown} of ${total}` : String(total);
}

function packageRow(pkg: IPackage): HTMLElement {
  const row = el('li', 'jp-MarimoPackages-row');
  row.dataset.package = pkg.name;
  const name = el('span', 'jp-MarimoPackages-name');
  name.textContent = pkg.name;
  const version = el('span', 'jp-MarimoPackages-version');
  version.textContent = pkg.version;
  row.append(name, version);
  return row;
}

function note(text: string, extraClass = ''): HTMLElement {
  const p = el('p', `jp-MarimoPackages-note ${extraClass}`.trim());
  p.textContent = text;
  return p;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  return node;
}

function button(
  label: string,
  className: string,
  modifier = ''
): HTMLButtonElement {
  const node = el(
    'button',
    `jp-Button jp-mod-styled ${modifier} ${className}`
      .replace(/\s+/g, ' ')
      .trim()
  );
  node.type = 'button';
  node.textContent = label;
  return node;
}

namespace Private {
  let id = 0;
  export function nextId(): number {
    return ++id;
  }
}
