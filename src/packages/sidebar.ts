/**
 * The "Install package" sidebar: a view of `PackagesModel`.
 *
 * Plain DOM in a Lumino widget. Each part (venv, install form, job log,
 * queue, package lists, restart) is built once and re-rendered alone when
 * the model says that part changed; the form is never rebuilt, so what the
 * user typed survives every update, and the log grows line by line rather
 * than being redrawn.
 *
 * Every text that comes from the server is set as text, never as HTML.
 */
import { Widget } from '@lumino/widgets';

import { createMessage } from '../panel';
import { IJob, IPackage, isFinished } from './api';
import { jobAction, jobProgress } from './jobs';
import { ChangeKind, ILogAppended, PackagesModel } from './model';
import { splitSpecs } from './specs';

/** CSS classes the browser tests rely on. */
export namespace CSS {
  export const panel = 'jp-MarimoPackages';
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
    this.addClass(CSS.panel);
    this.node.append(this._buildHeader(), this._unavailable, this._body);
    this._body.append(
      this._buildVenv(),
      this._buildForm(),
      this._buildJob(),
      this._buildQueue(),
      this._buildPackages(),
      this._buildRestart()
    );
    this.model.changed.connect(this._onChanged, this);
    this.model.logAppended.connect(this._onLog, this);
    this._renderAll();
  }

  readonly model: PackagesModel;

  /** The requirement field, for commands that want to focus it. */
  get specsField(): HTMLTextAreaElement {
    return this._specs;
  }

  /** Install what the field holds; keeps the text when it is refused. */
  async install(): Promise<void> {
    const result = await this.model.install(splitSpecs(this._specs.value));
    if (result.ok) {
      this._specs.value = '';
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onChanged, this);
    this.model.logAppended.disconnect(this._onLog, this);
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
    title.textContent = 'Install package';
    const refresh = button('Refresh', 'jp-MarimoPackages-refresh');
    refresh.title = 'Check the environment and list its packages again';
    refresh.addEventListener('click', () => void this.model.refresh());
    header.append(title, refresh);
    return header;
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
    header.append(this._jobTitle, this._cancelButton);
    this._log.setAttribute('role', 'log');
    this._log.tabIndex = 0;
    this._job.append(header, this._log, this._jobMessage);
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
    section.append(
      this._filter,
      this._userTitle,
      this._packagesError,
      this._userList,
      this._userEmpty,
      this._baseDetails
    );
    return section;
  }

  private _buildRestart(): HTMLElement {
    const section = el('section', 'jp-MarimoPackages-restartSection');
    this._restartButton.title =
      'Restart the marimo server; open notebooks reconnect when it is ready';
    this._restartButton.addEventListener(
      'click',
      () => void this.model.restart()
    );
    this._repairButton.title =
      'Rebuild the venv if it is broken, then reinstall the packages you ' +
      'installed';
    this._repairButton.addEventListener('click', () => {
      this._repairButton.disabled = true;
      void this.model.repair().finally(() => this._renderRepair());
    });
    this._restartStatus.setAttribute('role', 'status');
    this._maintenance.append(this._restartButton, this._repairButton);
    section.append(this._maintenance, this._restartStatus, this._restartLog);
    return section;
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
        break;
      case 'restart':
        this._renderRestart();
        break;
    }
  }

  private _onLog(_: PackagesModel, { job, lines }: ILogAppended): void {
    if (job.id !== this._shownJob) {
      // A job the log does not show yet: the next render shows it whole.
      return;
    }
    const follow = this._isScrolledDown();
    this._log.append(document.createTextNode(lines.join('\n') + '\n'));
    if (follow) {
      this._log.scrollTop = this._log.scrollHeight;
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
    // The repair button lives next to Restart unless a warning below
    // claims it.
    this._maintenance.append(this._repairButton);
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
    // gets a warning with the way out: the repair button moves into it.
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
        'Repair venv rebuilds it if it is broken and reinstalls the ' +
        'packages you installed.';
      warning.append(title, list, hint, this._repairButton);
      venvSection.append(warning);
    }
  }

  private _renderRepair(): void {
    const job = this.model.repairJob;
    const broken = this.model.venvProblems.length > 0;
    this._repairButton.disabled = !this.model.available || !!job;
    this._repairButton.textContent = job
      ? job.state === 'queued'
        ? 'Repair queued…'
        : 'Repairing venv…'
      : 'Repair venv';
    this._repairButton.classList.toggle('jp-mod-accept', broken);
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
    this._job.hidden = !job && !this.model.followError;
    if (job?.id !== this._shownJob) {
      this._shownJob = job?.id ?? null;
      this._log.textContent = job?.log.length ? job.log.join('\n') + '\n' : '';
      this._log.scrollTop = this._log.scrollHeight;
    }
    if (job) {
      this._job.dataset.state = job.state;
      this._job.dataset.job = job.id;
      this._jobTitle.textContent = jobTitle(job);
      this._cancelButton.hidden = isFinished(job);
      if (isFinished(job)) {
        this._cancelButton.disabled = false;
      }
    }
    const message =
      this.model.followError ?? (job && isFinished(job) ? job.message : '');
    this._jobMessage.textContent = message;
    this._jobMessage.hidden = !message;
    this._jobMessage.dataset.state = this.model.followError
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
    const user = this.model.userPackages;
    const base = this.model.basePackages;
    const all = this.model.packages;
    const userTotal = all.filter(p => p.source === 'user').length;
    const baseTotal = all.length - userTotal;
    const filtering = !!this.model.filter.trim();

    this._userTitle.textContent = `Installed by you (${countText(user.length, userTotal, filtering)})`;
    this._baseTitle.textContent = `Provided by Jupyter's environment (${countText(base.length, baseTotal, filtering)})`;

    const listError = this.model.packagesError;
    this._packagesError.hidden = !listError;
    this._packagesError.textContent = listError ?? '';

    this._userList.replaceChildren(...user.map(p => this._userRow(p)));
    this._userEmpty.hidden = user.length > 0 || !!listError;
    this._userEmpty.textContent = filtering
      ? 'None of your packages match the filter.'
      : 'You have not installed any packages yet.';

    this._baseList.replaceChildren(...base.map(p => baseRow(p)));
    this._baseEmpty.hidden = base.length > 0 || !filtering;
    this._baseEmpty.textContent = 'None match the filter.';
  }

  private _userRow(pkg: IPackage): HTMLElement {
    const row = packageRow(pkg);
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
      void this.model.uninstall(pkg.name).then(started => {
        if (!started) {
          uninstall.disabled = false;
        }
      });
    });
    row.append(uninstall);
    return row;
  }

  private _renderRestart(): void {
    const { restarting, lastRestart } = this.model;
    this._restartButton.disabled = restarting || !this.model.available;
    this._restartButton.textContent = restarting
      ? 'Restarting marimo…'
      : 'Restart marimo';
    const marimo = this.model.status?.marimo;
    let text = '';
    if (restarting) {
      text = 'Waiting until marimo answers again…';
    } else if (lastRestart) {
      text = lastRestart.message;
    } else if (marimo && !marimo.running) {
      text =
        marimo.state === 'failed'
          ? `marimo failed to start${marimo.error ? `: ${marimo.error}` : '.'}`
          : 'marimo is not running; it starts when you open it from the Launcher.';
    }
    this._restartStatus.textContent = text;
    this._restartStatus.hidden = !text;
    this._restartStatus.dataset.state = restarting
      ? 'restarting'
      : lastRestart
        ? lastRestart.ok
          ? 'ok'
          : 'failed'
        : '';
    const tail =
      !restarting && lastRestart && !lastRestart.ok
        ? lastRestart.logTail
        : null;
    this._restartLog.hidden = !tail;
    this._restartLog.textContent = tail ?? '';
  }

  private _isScrolledDown(): boolean {
    const log = this._log;
    return log.scrollHeight - log.scrollTop - log.clientHeight <= STICKY_SCROLL;
  }

  private _unavailable = el('div', 'jp-MarimoPackages-unavailable');
  private _body = el('div', 'jp-MarimoPackages-body');
  private _venv = el('section', 'jp-MarimoPackages-venv');
  private _specs = document.createElement('textarea');
  private _installButton = button('Install', CSS.install, 'jp-mod-accept');
  private _formError = el('p', CSS.error);
  private _job = el('section', 'jp-MarimoPackages-job');
  private _jobTitle = el('span', 'jp-MarimoPackages-jobTitle');
  private _cancelButton = button('Cancel', CSS.cancel, 'jp-mod-warn');
  private _log = el('pre', CSS.log);
  private _jobMessage = el('p', 'jp-MarimoPackages-jobMessage');
  private _shownJob: string | null = null;
  private _queueSection = el('section', 'jp-MarimoPackages-queueSection');
  private _queue = el('ul', CSS.queue);
  private _filter = document.createElement('input');
  private _userTitle = el('h3', 'jp-MarimoPackages-sectionTitle');
  private _packagesError = el('p', CSS.error);
  private _userList = el('ul', `${CSS.user} jp-MarimoPackages-list`);
  private _userEmpty = el('p', 'jp-MarimoPackages-muted');
  private _baseDetails = el('details', 'jp-MarimoPackages-baseSection');
  private _baseTitle = el('span', 'jp-MarimoPackages-sectionTitle');
  private _baseList = el('ul', `${CSS.base} jp-MarimoPackages-list`);
  private _baseEmpty = el('p', 'jp-MarimoPackages-muted');
  private _maintenance = el('div', 'jp-MarimoPackages-maintenance');
  private _restartButton = button('Restart marimo', CSS.restart);
  private _repairButton = button('Repair venv', CSS.repair);
  private _restartStatus = el('p', 'jp-MarimoPackages-restartStatus');
  private _restartLog = el('pre', 'jp-MarimoPackages-restartLog');
}

export namespace PackagesSidebar {
  export interface IOptions {
    model: PackagesModel;
  }
}

function jobTitle(job: IJob): string {
  const action = jobAction(job);
  switch (job.state) {
    case 'queued':
      return `${action}: waiting to start…`;
    case 'running':
      return `${jobProgress(job)}…`;
    case 'succeeded':
      return `${action}: done`;
    case 'failed':
      return `${action}: failed`;
    case 'cancelled':
      return `${action}: cancelled`;
  }
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

function baseRow(pkg: IPackage): HTMLElement {
  return packageRow(pkg);
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
