import { Widget } from '@lumino/widgets';

import { IJob, PackagesAPI } from '../packages/api';
import { PackagesModel } from '../packages/model';
import { IConfirmation, PackagesSidebar } from '../packages/sidebar';
import { StatusStore } from '../statusStore';
import {
  deferred,
  fails,
  FakeServer,
  healthyServer,
  job,
  until
} from './fakeServer';
import { healthyStatus } from './fixtures';

describe('PackagesSidebar', () => {
  let sidebar: PackagesSidebar | null = null;
  /** What the sidebar asked, and what the "user" answers. */
  let questions: IConfirmation[] = [];
  let answer = true;

  afterEach(() => {
    if (sidebar) {
      const model = sidebar.model;
      sidebar.dispose();
      model.dispose();
      sidebar = null;
    }
    document.body.innerHTML = '';
    questions = [];
    answer = true;
  });

  /** Attach a sidebar on `server` and wait for its first refresh. */
  async function open(
    server: FakeServer,
    openMarimo?: () => void,
    status?: StatusStore
  ): Promise<PackagesSidebar> {
    const model = new PackagesModel({
      api: new PackagesAPI(server.request, (endpoint, init) =>
        server.request(`marimo/${endpoint}`, init)
      ),
      retryDelay: 0,
      idleDelay: 0,
      status
    });
    sidebar = new PackagesSidebar({
      model,
      confirm: async question => {
        questions.push(question);
        return answer;
      },
      openMarimo
    });
    Widget.attach(sidebar, document.body);
    await until(() => !model.loading && model.check !== null, 'first refresh');
    return sidebar;
  }

  function q<T extends Element = HTMLElement>(selector: string): T {
    const found = sidebar!.node.querySelector<T>(selector);
    if (!found) {
      throw new Error(`no ${selector}`);
    }
    return found;
  }

  function names(listClass: string): string[] {
    return Array.from(
      sidebar!.node.querySelectorAll<HTMLElement>(
        `.${listClass} [data-package]`
      )
    ).map(row => row.dataset.package!);
  }

  function type(text: string): void {
    q<HTMLTextAreaElement>('.jp-MarimoPackages-specs').value = text;
  }

  it('shows the environment it acts on', async () => {
    await open(healthyServer());
    expect(sidebar!.node.classList).toContain('jp-MarimoPackages');
    const fact = (key: string) => q(`[data-fact="${key}"]`).textContent;
    expect(fact('path')).toBe(
      '/home/alice/.local/state/jupyter-marimo-proxy/venv'
    );
    expect(fact('python')).toBe('3.11.2');
    expect(fact('installer')).toBe('uv 0.4.0');
    expect(fact('marimo')).toBe('0.9.0');
  });

  it('says when the venv does not exist yet, and warns about real problems', async () => {
    const status = healthyStatus();
    status.venv.exists = false;
    status.venv.healthy = false;
    status.venv.problems = [
      'The state directory /nope is not writable. Set c.MarimoProxy.state_dir.',
      'The venv has not been created yet; it is created when marimo first opens.'
    ];
    await open(healthyServer().on('GET', 'status', () => status));
    const notes = Array.from(
      sidebar!.node.querySelectorAll<HTMLElement>('.jp-MarimoPackages-note')
    );
    expect(notes.map(n => n.textContent)).toEqual([
      'The environment is created when marimo first opens or at the first install.'
    ]);
    // "Not created yet" is no problem; the state directory is.
    const warning = q('.jp-MarimoPackages-venvWarning');
    expect(warning.getAttribute('role')).toBe('alert');
    expect(
      Array.from(warning.querySelectorAll('li')).map(li => li.textContent)
    ).toEqual([
      'The state directory /nope is not writable. Set c.MarimoProxy.state_dir.'
    ]);
  });

  it('lists the user packages with Uninstall and folds the base ones away', async () => {
    await open(healthyServer());
    expect(names('jp-MarimoPackages-user')).toEqual([
      'jmp-alpha',
      'typing-extensions'
    ]);
    const row = q('.jp-MarimoPackages-user [data-package="jmp-alpha"]');
    expect(row.textContent).toContain('1.0');
    expect(row.querySelector('.jp-MarimoPackages-uninstall')).not.toBeNull();

    const details = q<HTMLDetailsElement>('.jp-MarimoPackages-baseSection');
    expect(details.open).toBe(false);
    expect(details.querySelector('.jp-MarimoPackages-base')).not.toBeNull();
    expect(names('jp-MarimoPackages-base')).toEqual([
      'marimo',
      'numpy',
      'typing-inspection'
    ]);
    expect(
      sidebar!.node.querySelectorAll(
        '.jp-MarimoPackages-base .jp-MarimoPackages-uninstall'
      )
    ).toHaveLength(0);
    expect(details.textContent).toContain(
      "Provided by Jupyter's environment (3)"
    );
  });

  it('filters both lists as the user types', async () => {
    await open(healthyServer());
    const filter = q<HTMLInputElement>('.jp-MarimoPackages-filter');
    filter.value = 'typing';
    filter.dispatchEvent(new Event('input'));
    expect(names('jp-MarimoPackages-user')).toEqual(['typing-extensions']);
    expect(names('jp-MarimoPackages-base')).toEqual(['typing-inspection']);
    expect(sidebar!.node.textContent).toContain('Installed by you (1 of 2)');

    filter.value = 'zzz';
    filter.dispatchEvent(new Event('input'));
    expect(names('jp-MarimoPackages-user')).toEqual([]);
    expect(sidebar!.node.textContent).toContain(
      'None of your packages match the filter.'
    );
  });

  it('installs what is typed, shows the live log and a Cancel button', async () => {
    const poll = deferred<IJob>();
    const server = healthyServer()
      .on('POST', 'packages', call => job({ specs: call.body.specs }))
      .on('GET', 'jobs/job1', call =>
        call.query.get('offset') === '0'
          ? job({
              state: 'running',
              specs: ['jmp-live', 'jmp-alpha'],
              log: [
                '$ uv pip install jmp-live jmp-alpha',
                'Resolved 2 packages'
              ]
            })
          : poll.promise
      )
      .on('DELETE', 'jobs/job1', () =>
        job({
          state: 'cancelled',
          specs: ['jmp-live', 'jmp-alpha'],
          message: 'Cancelled; nothing changed (already satisfied).'
        })
      );
    await open(server);
    type('jmp-live jmp-alpha');
    q<HTMLButtonElement>('.jp-MarimoPackages-install').click();

    await until(() => server.callsTo('POST', 'packages').length === 1, 'POST');
    expect(server.callsTo('POST', 'packages')[0].body).toEqual({
      specs: ['jmp-live', 'jmp-alpha']
    });
    const log = q('.jp-MarimoPackages-log');
    await until(
      () => log.textContent!.includes('Resolved 2 packages'),
      'log lines'
    );
    // The command is folded away; the installer's output reads first.
    const command = q<HTMLDetailsElement>('.jp-MarimoPackages-log details');
    expect(command.open).toBe(false);
    expect(command.querySelector('code')!.textContent).toBe(
      'uv pip install jmp-live jmp-alpha'
    );
    expect(q('.jp-MarimoPackages-logText').textContent).toBe(
      'Resolved 2 packages\n'
    );
    // Kept until the install succeeds.
    expect(q<HTMLTextAreaElement>('.jp-MarimoPackages-specs').value).toBe(
      'jmp-live jmp-alpha'
    );
    expect(q('.jp-MarimoPackages-jobTitle').textContent).toBe(
      'Installing jmp-live, jmp-alpha…'
    );

    const cancel = q<HTMLButtonElement>('.jp-MarimoPackages-cancel');
    expect(cancel.hidden).toBe(false);
    cancel.click();
    await until(
      () => server.callsTo('DELETE', 'jobs/job1').length === 1,
      'DELETE'
    );
    await until(() => cancel.hidden, 'Cancel to go');
    // One line: the outcome replaces the progress title.
    expect(q('.jp-MarimoPackages-jobTitle').textContent).toBe(
      'Cancelled; nothing changed (already satisfied).'
    );
    expect(q<HTMLTextAreaElement>('.jp-MarimoPackages-specs').value).toBe(
      'jmp-live jmp-alpha'
    );
    poll.resolve(job({ state: 'cancelled', specs: ['jmp-live', 'jmp-alpha'] }));
  });

  it('keeps the typed text and shows the server message when a spec is refused', async () => {
    const message =
      "'./x.whl' looks like a local path. Only requirements by name are accepted.";
    const server = healthyServer().on(
      'POST',
      'packages',
      fails(400, { message })
    );
    await open(server);
    type('requests\n./x.whl');
    q<HTMLButtonElement>('.jp-MarimoPackages-install').click();
    const error = q('.jp-MarimoPackages-form .jp-MarimoPackages-error');
    await until(() => !error.hidden, 'the inline error');
    expect(error.textContent).toBe(message);
    expect(error.getAttribute('role')).toBe('alert');
    expect(q<HTMLTextAreaElement>('.jp-MarimoPackages-specs').value).toBe(
      'requests\n./x.whl'
    );
    expect(server.callsTo('POST', 'packages')[0].body.specs).toEqual([
      'requests',
      './x.whl'
    ]);
  });

  it('installs with Ctrl+Enter in the field', async () => {
    const server = healthyServer()
      .on('POST', 'packages', () => job())
      .on('GET', 'jobs/job1', () => job({ state: 'succeeded', message: 'ok' }));
    await open(server);
    type('jmp-live');
    q('.jp-MarimoPackages-specs').dispatchEvent(
      new KeyboardEvent('keydown', {
        key: 'Enter',
        ctrlKey: true,
        bubbles: true
      })
    );
    await until(() => server.callsTo('POST', 'packages').length === 1, 'POST');
  });

  it('lists jobs waiting in the queue, each with a Cancel', async () => {
    const first = deferred<IJob>();
    let n = 0;
    const server = healthyServer()
      .on('POST', 'packages', call => {
        n += 1;
        return job({ id: `j${n}`, specs: call.body.specs, created: n });
      })
      .on('GET', 'jobs/j1', () => first.promise)
      .on('DELETE', 'jobs/j2', () =>
        job({
          id: 'j2',
          specs: ['jmp-bravo'],
          created: 2,
          state: 'cancelled',
          message: 'Cancelled before it started.'
        })
      );
    await open(server);
    type('jmp-alpha');
    await sidebar!.install();
    type('jmp-bravo');
    await sidebar!.install();

    const queued = () =>
      Array.from(
        sidebar!.node.querySelectorAll<HTMLElement>(
          '.jp-MarimoPackages-queue li'
        )
      );
    expect(queued().map(li => li.textContent)).toEqual([
      'Install jmp-bravoCancel'
    ]);
    expect(q('.jp-MarimoPackages-jobTitle').textContent).toBe(
      'Install jmp-alpha: waiting to start…'
    );
    queued()[0]
      .querySelector<HTMLButtonElement>('.jp-MarimoPackages-cancelQueued')!
      .click();
    await until(() => queued().length === 0, 'the queue to empty');
    expect(server.callsTo('DELETE', 'jobs/j2')).toHaveLength(1);
    first.resolve(
      job({ id: 'j1', specs: ['jmp-alpha'], created: 1, state: 'succeeded' })
    );
  });

  it('uninstalls a package from its row', async () => {
    const server = healthyServer()
      .on('DELETE', 'packages/jmp-alpha', () =>
        job({ id: 'u', kind: 'uninstall', specs: ['jmp-alpha'] })
      )
      .on('GET', 'jobs/u', () => new Promise<IJob>(() => undefined));
    await open(server);
    answer = false;
    const uninstall = (): HTMLButtonElement =>
      q<HTMLButtonElement>(
        '[data-package="jmp-alpha"] .jp-MarimoPackages-uninstall'
      );
    uninstall().click();
    await until(() => questions.length === 1, 'the question');
    expect(questions[0].title).toBe('Uninstall jmp-alpha 1.0?');
    expect(questions[0].accept).toBe('Uninstall');
    await until(() => !uninstall().disabled, 'the button back');
    expect(server.callsTo('DELETE', 'packages/jmp-alpha')).toHaveLength(0);

    answer = true;
    uninstall().click();
    await until(
      () => server.callsTo('DELETE', 'packages/jmp-alpha').length === 1,
      'DELETE'
    );
    await until(
      () =>
        q('[data-package="jmp-alpha"] .jp-MarimoPackages-uninstall')
          .textContent === 'Queued',
      'the row to say Queued'
    );
    expect(
      q<HTMLButtonElement>(
        '[data-package="jmp-alpha"] .jp-MarimoPackages-uninstall'
      ).disabled
    ).toBe(true);
  });

  it('restarts marimo and shows a failure with the log tail', async () => {
    const marimoFailed = {
      version: '0.25.2',
      running: false,
      state: 'failed' as const,
      port: null,
      url: '/marimo/',
      error: 'marimo exited with code 1',
      log_tail: 'ImportError: broken'
    };
    let restarted = false;
    const server = healthyServer()
      .on('POST', 'restart', call => {
        restarted = true;
        return fails(500, marimoFailed)(call);
      })
      // After the failed restart the status says so too, as the server's does.
      .on('GET', 'status', () =>
        restarted
          ? { ...healthyStatus(), marimo: marimoFailed }
          : healthyStatus()
      );
    server.on('POST', 'marimo/api/home/running_notebooks', () => ({
      files: [{ path: 'a.py' }, { path: 'b.py' }]
    }));
    await open(server);
    const restart = q<HTMLButtonElement>('.jp-MarimoPackages-restart');
    expect(restart.getAttribute('aria-label')).toBe('Restart marimo');
    // Its own icon: not the run triangle (reads as "run a cell") nor Refresh's arrow.
    expect(restart.querySelector('svg')?.getAttribute('data-icon')).toBe(
      'jupyter-marimo-proxy:restart'
    );
    restart.click();
    expect(restart.disabled).toBe(true);
    await until(() => questions.length === 1, 'the question');
    expect(questions[0].body).toBe(
      'This ends 2 running notebooks and their variables. Their files are ' +
        'kept; marimo tabs reconnect when it is back.'
    );

    const status = q('.jp-MarimoPackages-restartStatus');
    await until(() => status.dataset.state === 'failed', 'the outcome');
    // The status after the restart says marimo failed to start, with why.
    expect(status.textContent).toBe(
      'marimo failed to start: marimo exited with code 1. Fix the cause, ' +
        'then restart or open marimo to retry.'
    );
    expect(q('.jp-MarimoPackages-restartLog').textContent).toBe(
      'ImportError: broken'
    );
    expect(restart.disabled).toBe(false);
  });

  it('does not restart when the user says no', async () => {
    const server = healthyServer();
    await open(server);
    answer = false;
    expect(await sidebar!.restart()).toBe(false);
    // marimo could not count its notebooks: the question says so.
    expect(questions[0].body).toContain('every running marimo notebook');
    expect(server.callsTo('POST', 'restart')).toHaveLength(0);
  });

  it('shows a failed start with its reason, its log and a way to retry', async () => {
    const failed = healthyStatus();
    failed.marimo = {
      ...failed.marimo,
      running: false,
      state: 'failed',
      error: 'marimo edit: no such option: --bogus',
      log_tail: 'Error: No such option: --bogus'
    };
    const server = healthyServer().on('GET', 'status', () => failed);
    const opened: string[] = [];
    await open(server, () => opened.push('marimo'));
    const status = q('.jp-MarimoPackages-restartStatus');
    expect(status.textContent).toBe(
      'marimo failed to start: marimo edit: no such option: --bogus. Fix ' +
        'the cause, then restart or open marimo to retry.'
    );
    expect(status.dataset.state).toBe('failed');
    expect(q('.jp-MarimoPackages-restartLog').textContent).toBe(
      'Error: No such option: --bogus'
    );
    // Restart tries again (the launcher starts marimo anew); opening marimo
    // retries too.
    const restart = q<HTMLButtonElement>('.jp-MarimoPackages-restart');
    expect(restart.disabled).toBe(false);
    expect(restart.title).toBe('Restart marimo: try to start it again');
    const retry = q<HTMLButtonElement>('.jp-MarimoPackages-openMarimo');
    expect(retry.hidden).toBe(false);
    expect(retry.textContent).toBe('Open marimo to retry');
    retry.click();
    expect(opened).toEqual(['marimo']);
  });

  it('follows the shared status: a failed start shows and leaves without Refresh', async () => {
    const failedStatus = healthyStatus();
    failedStatus.marimo = {
      ...failedStatus.marimo,
      running: false,
      state: 'failed',
      port: null,
      error: 'marimo exited with code 1 while starting.',
      log_tail: 'ImportError: uvicorn is unusable'
    };
    let current = healthyStatus();
    const server = healthyServer()
      .on('GET', 'status', () => current)
      // "Restart marimo" with the fault still there: marimo's reason.
      .on('POST', 'restart', fails(500, failedStatus.marimo));
    const store = new StatusStore(() =>
      new PackagesAPI(server.request).status()
    );
    await open(server, () => undefined, store);
    const status = q('.jp-MarimoPackages-restartStatus');
    const openButton = q<HTMLButtonElement>('.jp-MarimoPackages-openMarimo');
    expect(status.dataset.state).toBe('');

    // A tab saw the failed start and asked the shared status: the sidebar
    // shows it at once.
    current = failedStatus;
    await store.check();
    expect(status.textContent).toBe(
      'marimo failed to start: marimo exited with code 1 while starting. ' +
        'Fix the cause, then restart or open marimo to retry.'
    );
    expect(openButton.hidden).toBe(false);

    // A restart that fails again ends in the reason, and may be tried again.
    const outcome = await sidebar!.model.restart();
    expect(outcome.ok).toBe(false);
    await until(() => !sidebar!.model.restarting, 'the restart');
    expect(status.dataset.state).toBe('failed');
    expect(q<HTMLButtonElement>('.jp-MarimoPackages-restart').disabled).toBe(
      false
    );

    // The cause is gone and marimo runs again (opened from a tab): the
    // failure (the start's and the restart's) leaves the sidebar.
    current = healthyStatus();
    await store.check();
    expect(sidebar!.model.lastRestart).toBeNull();
    expect(status.dataset.state).toBe('');
    expect(status.textContent).toBe('');
    expect(openButton.hidden).toBe(true);
    expect(q('.jp-MarimoPackages-restartLogDetails').hidden).toBe(true);
  });

  it('drops a failed restart once its own Refresh finds marimo running', async () => {
    let current: any = healthyStatus();
    const server = healthyServer()
      .on('GET', 'status', () => current)
      .on('POST', 'restart', fails(409, { message: 'marimo is not running' }));
    await open(server);
    current = healthyStatus();
    current.marimo = {
      ...current.marimo,
      running: false,
      state: 'failed',
      error: 'marimo exited with code 1 while starting.'
    };
    const outcome = await sidebar!.model.restart();
    expect(outcome.message).toMatch(/^marimo failed to start: marimo exited/);
    const status = q('.jp-MarimoPackages-restartStatus');
    expect(status.dataset.state).toBe('failed');

    current = healthyStatus();
    q<HTMLButtonElement>('.jp-MarimoPackages-refresh').click();
    await until(() => status.dataset.state !== 'failed', 'the failure to go');
    expect(status.textContent).toBe('');
  });

  it('folds dependencies under what the user asked for and marks marimo installs', async () => {
    const server = healthyServer().on('GET', 'packages', () => [
      {
        name: 'cowsay',
        version: '6.1',
        source: 'user',
        origin: 'marimo',
        required_by: []
      },
      {
        name: 'numpy',
        version: '2.1.0',
        source: 'user',
        origin: 'dependency',
        required_by: ['pandas']
      },
      {
        name: 'pandas',
        version: '2.2.3',
        source: 'user',
        origin: 'requested',
        required_by: []
      },
      {
        name: 'six',
        version: '1.16',
        source: 'user',
        origin: 'dependency',
        required_by: ['python-dateutil']
      },
      {
        name: 'python-dateutil',
        version: '2.9',
        source: 'user',
        origin: 'dependency',
        required_by: ['pandas']
      },
      { name: 'marimo', version: '0.9.0', source: 'base' }
    ]);
    await open(server);
    const mine = q(
      '.jp-MarimoPackages-user:not(.jp-MarimoPackages-fromMarimoList)'
    );
    const top = Array.from(mine.children).map(
      li =>
        (li as HTMLElement).dataset.group ?? (li as HTMLElement).dataset.package
    );
    expect(top).toEqual(['pandas']);
    const group = q('[data-group="pandas"]');
    const deps = group.querySelector<HTMLDetailsElement>(
      '.jp-MarimoPackages-dependencies'
    )!;
    expect(deps.open).toBe(false);
    expect(deps.querySelector('summary')!.textContent).toBe(
      'with 3 dependencies'
    );
    expect(
      Array.from(deps.querySelectorAll<HTMLElement>('[data-package]')).map(
        r => r.dataset.package
      )
    ).toEqual(['numpy', 'python-dateutil', 'six']);
    // Only what was asked for can be uninstalled from here.
    expect(deps.querySelector('.jp-MarimoPackages-uninstall')).toBeNull();
    expect(sidebar!.node.textContent).toContain('Installed by you (1)');
    expect(sidebar!.node.textContent).toContain('Installed from marimo (1)');
    const fromMarimo = q(
      '.jp-MarimoPackages-fromMarimoList [data-package="cowsay"]'
    );
    expect(
      fromMarimo.querySelector('.jp-MarimoPackages-uninstall')
    ).not.toBeNull();

    // A filter that finds a dependency shows it under its parent, unfolded.
    const filter = q<HTMLInputElement>('.jp-MarimoPackages-filter');
    filter.value = 'six';
    filter.dispatchEvent(new Event('input'));
    expect(
      q<HTMLDetailsElement>(
        '[data-group="pandas"] .jp-MarimoPackages-dependencies'
      ).open
    ).toBe(true);
  });

  it('hides the last log under a new refusal', async () => {
    const server = healthyServer()
      .on('POST', 'packages', () =>
        job({
          id: 'f',
          state: 'failed',
          specs: ['cowsay-zzz'],
          log: ['no'],
          message:
            'cowsay-zzz is not on the package index: nothing was changed.'
        })
      )
      .on('GET', 'jobs/f', () =>
        job({
          id: 'f',
          state: 'failed',
          specs: ['cowsay-zzz'],
          log: ['no'],
          message:
            'cowsay-zzz is not on the package index: nothing was changed.'
        })
      );
    await open(server);
    type('cowsay-zzz');
    await sidebar!.install();
    const title = q('.jp-MarimoPackages-jobTitle');
    await until(() => title.dataset.state === 'failed', 'the failure');
    expect(title.textContent).toBe(
      'cowsay-zzz is not on the package index: nothing was changed.'
    );
    // What was typed stays, to fix the typo.
    expect(q<HTMLTextAreaElement>('.jp-MarimoPackages-specs').value).toBe(
      'cowsay-zzz'
    );
    expect(q('.jp-MarimoPackages-job').hidden).toBe(false);

    server.on(
      'POST',
      'packages',
      fails(400, { message: "'-r x' is an installer option." })
    );
    type('-r x');
    await sidebar!.install();
    expect(q('.jp-MarimoPackages-error').textContent).toBe(
      "'-r x' is an installer option."
    );
    expect(q('.jp-MarimoPackages-job').hidden).toBe(true);
  });

  it('empties the field once the install succeeded', async () => {
    const done = job({
      id: 's',
      state: 'succeeded',
      specs: ['cowsay'],
      message: 'Installed cowsay 6.1'
    });
    const server = healthyServer()
      .on('POST', 'packages', () => job({ id: 's', specs: ['cowsay'] }))
      .on('GET', 'jobs/s', () => done);
    await open(server);
    type('cowsay');
    await sidebar!.install();
    await until(
      () => q<HTMLTextAreaElement>('.jp-MarimoPackages-specs').value === '',
      'the field to empty'
    );
    expect(q('.jp-MarimoPackages-jobTitle').textContent).toBe(
      'Installed cowsay 6.1'
    );
  });

  it('explains a missing server extension like the marimo tab does', async () => {
    const server = new FakeServer().on(
      'GET',
      'status',
      fails(404, 'Not Found')
    );
    await open(server);
    const message = q('.jp-MarimoPackages-unavailable .jp-MarimoProxy-message');
    expect(message.classList).toContain('jp-mod-missing');
    expect(message.textContent).toContain(
      'The jupyter-marimo-proxy server extension is not enabled'
    );
    expect(q('.jp-MarimoPackages-body').hidden).toBe(true);
    expect(sidebar!.node.dataset.status).toBe('missing');

    // "Check again" asks again.
    server.on('GET', 'status', () => {
      throw new Error('still down');
    });
    message.querySelector<HTMLButtonElement>('.jp-MarimoProxy-retry')!.click();
    await until(
      () => server.callsTo('GET', 'status').length === 2,
      'a second check'
    );
  });

  it('never renders server text as HTML', async () => {
    const server = healthyServer().on('GET', 'packages', () => [
      { name: '<img src=x onerror=alert(1)>', version: '1', source: 'user' }
    ]);
    await open(server);
    expect(sidebar!.node.querySelector('img')).toBeNull();
    expect(sidebar!.node.textContent).toContain('<img src=x onerror=alert(1)>');
  });

  it('warns about a broken venv, with Repair venv in the warning', async () => {
    let healthy = false;
    const status = () => {
      const report = healthyStatus();
      if (!healthy) {
        report.venv.healthy = false;
        report.venv.problems = [
          'pyvenv.cfg is missing or damaged.',
          'marimo is not importable from the venv.'
        ];
      }
      return report;
    };
    const finish = deferred<IJob>();
    const server = healthyServer()
      .on('GET', 'status', status)
      .on('POST', 'repair', () =>
        job({ id: 'r1', kind: 'repair', specs: ['jmp-alpha'] })
      )
      .on('GET', 'jobs/r1', call =>
        call.query.get('state') === 'queued'
          ? job({
              id: 'r1',
              kind: 'repair',
              specs: ['jmp-alpha'],
              state: 'running'
            })
          : finish.promise
      );
    await open(server);

    const warning = q('.jp-MarimoPackages-venvWarning');
    expect(
      Array.from(warning.querySelectorAll('li')).map(li => li.textContent)
    ).toEqual([
      'pyvenv.cfg is missing or damaged.',
      'marimo is not importable from the venv.'
    ]);
    const repair = q<HTMLButtonElement>('.jp-MarimoPackages-repairNow');
    expect(warning.contains(repair)).toBe(true);
    expect(repair.textContent).toBe('Repair venv');
    // The toolbar's repair button calls for attention too.
    expect(
      q('.jp-MarimoPackages-toolbar .jp-MarimoPackages-repair').classList
    ).toContain('jp-mod-attention');

    repair.click();
    await until(
      () => server.callsTo('POST', 'repair').length === 1,
      'POST repair'
    );
    await until(() => repair.textContent === 'Repairing venv…', 'running');
    expect(repair.disabled).toBe(true);
    expect(q('.jp-MarimoPackages-jobTitle').textContent).toBe(
      'Repairing the venv…'
    );

    healthy = true;
    finish.resolve(
      job({
        id: 'r1',
        kind: 'repair',
        specs: ['jmp-alpha'],
        state: 'succeeded',
        message: 'Rebuilt the broken venv; reinstalled jmp-alpha.'
      })
    );
    await until(
      () =>
        sidebar!.node.querySelector('.jp-MarimoPackages-venvWarning') === null,
      'the warning to go'
    );
    expect(q('.jp-MarimoPackages-jobTitle').textContent).toBe(
      'Rebuilt the broken venv; reinstalled jmp-alpha.'
    );
    const tool = q<HTMLButtonElement>('.jp-MarimoPackages-repair');
    expect(tool.disabled).toBe(false);
    expect(tool.classList).not.toContain('jp-mod-attention');
  });

  it('has a toolbar of icon buttons on top, named for screen readers', async () => {
    await open(healthyServer());
    expect(
      sidebar!.node.querySelector('.jp-MarimoPackages-venvWarning')
    ).toBeNull();
    const toolbar = q('.jp-MarimoPackages-header .jp-MarimoPackages-toolbar');
    const buttons = Array.from(
      toolbar.querySelectorAll<HTMLButtonElement>('button')
    );
    expect(buttons.map(b => b.getAttribute('aria-label'))).toEqual([
      'Refresh',
      'Restart marimo',
      'Repair venv'
    ]);
    for (const b of buttons) {
      expect(b.querySelector('svg')).not.toBeNull();
      expect(b.classList).toContain('jp-ToolbarButtonComponent');
      expect(b.disabled).toBe(false);
    }
    expect(q('.jp-MarimoPackages-title').textContent).toBe('marimo packages');
    // The header comes before everything that can grow (log, lists).
    expect(sidebar!.node.firstElementChild).toBe(
      q('.jp-MarimoPackages-header')
    );
  });

  it('names a bootstrap job after its requirements file', async () => {
    const bootstrap = (state: IJob['state']) =>
      job({
        id: 'b1',
        kind: 'bootstrap',
        specs: ['requirements.txt'],
        state
      });
    // The server's own job, found when the sidebar first looks.
    await open(
      healthyServer()
        .on('GET', 'jobs', () => [bootstrap('queued')])
        .on('GET', 'jobs/b1', () => new Promise(() => undefined))
    );
    await until(
      () =>
        !!sidebar!.node.querySelector('.jp-MarimoPackages-jobTitle')
          ?.textContent,
      'the job title'
    );
    expect(q('.jp-MarimoPackages-jobTitle').textContent).toBe(
      'Install the requirements in requirements.txt: waiting to start…'
    );
  });
});
