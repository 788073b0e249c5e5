import { IJob, PackagesAPI } from '../packages/api';
import {
  IActionFailure,
  ILogAppended,
  IRestartOutcome,
  groupPackages,
  NOT_RUNNING,
  NOTHING_TO_INSTALL,
  PackagesModel
} from '../packages/model';
import {
  deferred,
  fails,
  FakeServer,
  healthyServer,
  job,
  PACKAGES,
  until
} from './fakeServer';
import { healthyStatus } from './fixtures';

function makeModel(server: FakeServer): PackagesModel {
  return new PackagesModel({
    api: new PackagesAPI(server.request),
    pollWait: 7,
    retryDelay: 0,
    idleDelay: 0,
    maxFailures: 3
  });
}

/** Record what the model emits. */
function record(model: PackagesModel) {
  const seen = {
    logs: [] as ILogAppended[],
    finished: [] as IJob[],
    failures: [] as IActionFailure[],
    restarts: [] as IRestartOutcome[]
  };
  model.logAppended.connect((_, event) =>
    seen.logs.push({ job: event.job, lines: [...event.lines] })
  );
  model.jobFinished.connect((_, j) => seen.finished.push(j));
  model.actionFailed.connect((_, f) => seen.failures.push(f));
  model.restartFinished.connect((_, o) => seen.restarts.push(o));
  return seen;
}

describe('PackagesModel', () => {
  let model: PackagesModel | null = null;

  afterEach(() => {
    model?.dispose();
    model = null;
  });

  describe('refresh', () => {
    it('loads the status, then the packages split into user and base', async () => {
      const server = healthyServer();
      model = makeModel(server);
      await model.refresh();

      expect(model.available).toBe(true);
      expect(model.status?.venv.path).toBe(healthyStatus().venv.path);
      expect(model.userPackages.map(p => p.name)).toEqual([
        'jmp-alpha',
        'typing-extensions'
      ]);
      expect(model.basePackages.map(p => p.name)).toEqual([
        'marimo',
        'numpy',
        'typing-inspection'
      ]);
      expect(server.calls.map(c => `${c.method} ${c.path}`).sort()).toEqual([
        'GET jobs',
        'GET packages',
        'GET status'
      ]);
    });

    it('filters both lists by name, ignoring case and - _ .', async () => {
      model = makeModel(healthyServer());
      await model.refresh();
      const changes: string[] = [];
      model.changed.connect((_, kind) => changes.push(kind));

      model.filter = 'TYPING_';
      expect(changes).toEqual(['filter']);
      expect(model.userPackages.map(p => p.name)).toEqual([
        'typing-extensions'
      ]);
      expect(model.basePackages.map(p => p.name)).toEqual([
        'typing-inspection'
      ]);

      model.filter = 'alpha';
      expect(model.userPackages.map(p => p.name)).toEqual(['jmp-alpha']);
      expect(model.basePackages).toEqual([]);

      model.filter = '  ';
      expect(model.userPackages).toHaveLength(2);
      expect(model.basePackages).toHaveLength(3);
    });

    it('stops at a missing server extension (404)', async () => {
      const server = new FakeServer().on(
        'GET',
        'status',
        fails(404, 'Not Found')
      );
      model = makeModel(server);
      await model.refresh();

      expect(model.available).toBe(false);
      expect(model.check?.kind).toBe('missing');
      expect(model.check?.message).toContain('jupyter server extension list');
      expect(model.packages).toEqual([]);
      expect(server.calls.map(c => c.path)).toEqual(['status']);
    });

    it('reports a package list that cannot be loaded', async () => {
      const server = healthyServer().on(
        'GET',
        'packages',
        fails(500, { message: 'venv unreadable' })
      );
      model = makeModel(server);
      await model.refresh();
      expect(model.available).toBe(true);
      expect(model.packagesError).toBe(
        'Could not list the packages: venv unreadable'
      );
    });

    it('runs one refresh at a time', async () => {
      const server = healthyServer();
      model = makeModel(server);
      await Promise.all([model.refresh(), model.refresh()]);
      expect(server.callsTo('GET', 'status')).toHaveLength(1);
    });
  });

  describe('install', () => {
    it('queues the specs, streams the log by offset and announces the outcome', async () => {
      let installed = false;
      const server = healthyServer()
        .on('POST', 'packages', () => job({ specs: ['jmp-live'] }))
        .on('GET', 'jobs/job1', call => {
          const offset = Number(call.query.get('offset'));
          if (offset === 0) {
            return job({
              state: 'running',
              log: ['$ uv pip install jmp-live', 'Resolved 1 package'],
              offset: 0
            });
          }
          installed = true;
          return job({
            state: 'succeeded',
            exit_code: 0,
            log: ['Installed 1 package'],
            offset: 2,
            message: 'Installed jmp-live: installed jmp-live 1.0.'
          });
        })
        .on('GET', 'packages', () =>
          installed
            ? [
                { name: 'jmp-live', version: '1.0', source: 'user' },
                ...PACKAGES
              ]
            : PACKAGES
        );
      model = makeModel(server);
      await model.refresh();
      const seen = record(model);

      const result = await model.install(['jmp-live']);
      expect(result.ok).toBe(true);
      expect(server.callsTo('POST', 'packages')[0].body).toEqual({
        specs: ['jmp-live']
      });

      await until(() => seen.finished.length === 1, 'the job to finish');
      const polls = server.callsTo('GET', 'jobs/job1');
      expect(polls.map(c => c.query.get('offset'))).toEqual(['0', '2']);
      expect(polls.map(c => c.query.get('wait'))).toEqual(['7', '7']);
      expect(seen.logs.map(l => l.lines)).toEqual([
        ['$ uv pip install jmp-live', 'Resolved 1 package'],
        ['Installed 1 package']
      ]);
      expect(seen.finished[0].state).toBe('succeeded');
      expect(seen.finished[0].message).toBe(
        'Installed jmp-live: installed jmp-live 1.0.'
      );
      expect(model.currentJob?.log).toEqual([
        '$ uv pip install jmp-live',
        'Resolved 1 package',
        'Installed 1 package'
      ]);

      // The list is loaded again after the job.
      await until(
        () => model!.userPackages.some(p => p.name === 'jmp-live'),
        'jmp-live in the list'
      );
      expect(server.callsTo('GET', 'packages')).toHaveLength(2);
    });

    it('keeps a refused spec (400) as the install error and touches nothing else', async () => {
      const message =
        "'-r req.txt' is an installer option. Only requirements such as 'requests' are accepted.";
      const server = healthyServer().on(
        'POST',
        'packages',
        fails(400, { message })
      );
      model = makeModel(server);
      await model.refresh();
      const seen = record(model);

      const result = await model.install(['-r req.txt']);
      expect(result).toEqual({ ok: false, message });
      expect(model.installError).toBe(message);
      expect(seen.failures).toEqual([
        { action: 'install', message, httpStatus: 400 }
      ]);
      expect(model.jobs).toEqual([]);
      expect(server.callsTo('GET', /^jobs\//)).toHaveLength(0);
    });

    it('asks for something to install without calling the server', async () => {
      const server = healthyServer();
      model = makeModel(server);
      const result = await model.install([]);
      expect(result).toEqual({ ok: false, message: NOTHING_TO_INSTALL });
      expect(server.calls).toEqual([]);
    });

    it('clears the install error on the next request', async () => {
      let refuse = true;
      const server = healthyServer()
        .on('POST', 'packages', () => {
          if (refuse) {
            throw fails(400, { message: 'bad spec' })({} as any);
          }
          return job({ state: 'succeeded', message: 'ok' });
        })
        .on('GET', 'jobs/job1', () =>
          job({ state: 'succeeded', message: 'ok' })
        );
      model = makeModel(server);
      await model.install(['x y']);
      expect(model.installError).toBe('bad spec');
      refuse = false;
      await model.install(['x']);
      expect(model.installError).toBeNull();
    });

    it('follows queued jobs one after the other and lists the waiting ones', async () => {
      const first = deferred<IJob>();
      const second = deferred<IJob>();
      let posted = 0;
      const server = healthyServer()
        .on('POST', 'packages', call => {
          posted += 1;
          return job({
            id: posted === 1 ? 'aaa' : 'bbb',
            specs: call.body.specs,
            created: 1000 + posted
          });
        })
        .on('GET', 'jobs/aaa', () => first.promise)
        .on('GET', 'jobs/bbb', () => second.promise);
      model = makeModel(server);
      await model.refresh();
      const seen = record(model);

      await model.install(['jmp-alpha']);
      await model.install(['jmp-bravo']);
      expect(model.currentJob?.id).toBe('aaa');
      expect(model.pendingJobs.map(j => j.specs)).toEqual([['jmp-bravo']]);
      await until(() => server.callsTo('GET', 'jobs/aaa').length === 1, 'poll');
      expect(server.callsTo('GET', 'jobs/bbb')).toHaveLength(0);

      first.resolve(
        job({
          id: 'aaa',
          specs: ['jmp-alpha'],
          created: 1001,
          state: 'succeeded',
          message: 'A done'
        })
      );
      await until(
        () => server.callsTo('GET', 'jobs/bbb').length === 1,
        'second poll'
      );
      expect(model.currentJob?.id).toBe('bbb');
      expect(model.pendingJobs).toEqual([]);

      second.resolve(
        job({
          id: 'bbb',
          specs: ['jmp-bravo'],
          created: 1002,
          state: 'failed',
          exit_code: 1,
          message: 'B failed'
        })
      );
      await until(() => seen.finished.length === 2, 'both jobs');
      expect(seen.finished.map(j => [j.id, j.state, j.message])).toEqual([
        ['aaa', 'succeeded', 'A done'],
        ['bbb', 'failed', 'B failed']
      ]);
    });

    it('does not repeat log lines that overlapping answers send twice', async () => {
      const server = healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', call => {
          const offset = Number(call.query.get('offset'));
          // A server that ignores the offset: always the whole log.
          const log = ['a', 'b', 'c', 'd'].slice(0, offset + 2);
          return job({
            state: log.length >= 4 ? 'succeeded' : 'running',
            log,
            offset: 0
          });
        });
      model = makeModel(server);
      const seen = record(model);
      await model.install(['jmp-live']);
      await until(() => seen.finished.length === 1, 'the job');
      expect(model.currentJob?.log).toEqual(['a', 'b', 'c', 'd']);
      expect(allLines(seen.logs)).toEqual(['a', 'b', 'c', 'd']);
    });
  });

  describe('cancel', () => {
    it('cancels the running job and announces it once', async () => {
      const poll = deferred<IJob>();
      const cancelled = job({
        state: 'cancelled',
        log: ['$ uv pip install jmp-live'],
        message: 'Cancelled; nothing changed (already satisfied).'
      });
      const server = healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', () => poll.promise)
        .on('DELETE', 'jobs/job1', () => cancelled);
      model = makeModel(server);
      const seen = record(model);
      await model.install(['jmp-live']);
      await until(
        () => server.callsTo('GET', 'jobs/job1').length === 1,
        'poll'
      );

      const result = await model.cancel('job1');
      expect(result?.state).toBe('cancelled');
      expect(server.callsTo('DELETE', 'jobs/job1')).toHaveLength(1);
      expect(seen.finished.map(j => j.state)).toEqual(['cancelled']);
      expect(model.currentJob?.state).toBe('cancelled');

      // The long-poll answers late with the same outcome: no second notice,
      // and a late "running" can never un-finish the job.
      poll.resolve(
        job({ state: 'running', log: ['$ uv pip install jmp-live'] })
      );
      await new Promise(resolve => setTimeout(resolve, 10));
      expect(seen.finished).toHaveLength(1);
      expect(model.currentJob?.state).toBe('cancelled');
      expect(model.currentJob?.log).toEqual(['$ uv pip install jmp-live']);
    });

    it('reports a job that had already finished (409)', async () => {
      const server = healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', () =>
          job({ state: 'succeeded', message: 'done' })
        )
        .on(
          'DELETE',
          'jobs/job1',
          fails(409, { message: 'The job has already succeeded.' })
        );
      model = makeModel(server);
      const seen = record(model);
      await model.install(['jmp-live']);
      expect(await model.cancel('job1')).toBeNull();
      expect(seen.failures).toEqual([
        {
          action: 'cancel',
          message: 'The job has already succeeded.',
          httpStatus: 409
        }
      ]);
    });
  });

  describe('uninstall', () => {
    it('queues an uninstall job, follows it and reloads the list', async () => {
      let removed = false;
      const server = healthyServer()
        .on('DELETE', 'packages/jmp-alpha', () =>
          job({ id: 'u1', kind: 'uninstall', specs: ['jmp-alpha'] })
        )
        .on('GET', 'jobs/u1', () => {
          removed = true;
          return job({
            id: 'u1',
            kind: 'uninstall',
            specs: ['jmp-alpha'],
            state: 'succeeded',
            log: ['$ uv pip uninstall jmp-alpha', 'Uninstalled 1 package'],
            message: 'Uninstalled jmp-alpha: removed jmp-alpha.'
          });
        })
        .on('GET', 'packages', () =>
          removed ? PACKAGES.filter(p => p.name !== 'jmp-alpha') : PACKAGES
        );
      model = makeModel(server);
      await model.refresh();
      const seen = record(model);

      const started = await model.uninstall('jmp-alpha');
      expect(started?.kind).toBe('uninstall');
      expect(model.uninstallJobFor('jmp-alpha')?.id).toBe('u1');

      await until(() => seen.finished.length === 1, 'the uninstall');
      expect(seen.finished[0].message).toBe(
        'Uninstalled jmp-alpha: removed jmp-alpha.'
      );
      expect(allLines(seen.logs)).toContain('Uninstalled 1 package');
      await until(
        () => !model!.userPackages.some(p => p.name === 'jmp-alpha'),
        'jmp-alpha gone'
      );
      expect(model.uninstallJobFor('jmp-alpha')).toBeNull();
    });

    it("reports a package that is not the user's (404)", async () => {
      const message =
        'numpy is not installed in the user venv (packages of the base environment cannot be removed here).';
      const server = healthyServer().on(
        'DELETE',
        'packages/numpy',
        fails(404, { message })
      );
      model = makeModel(server);
      const seen = record(model);
      expect(await model.uninstall('numpy')).toBeNull();
      expect(seen.failures).toEqual([
        { action: 'uninstall', message, httpStatus: 404 }
      ]);
    });
  });

  describe('restart', () => {
    it('says when marimo is ready again', async () => {
      const answer = deferred<unknown>();
      const server = healthyServer().on(
        'POST',
        'restart',
        () => answer.promise
      );
      model = makeModel(server);
      const seen = record(model);

      const pending = model.restart();
      expect(model.restarting).toBe(true);
      // A second click while it restarts does not restart twice.
      const again = model.restart();
      answer.resolve({ ...healthyStatus().marimo, version: '0.25.2' });
      const outcome = await pending;
      expect(await again).toBe(outcome);

      expect(server.callsTo('POST', 'restart')).toHaveLength(1);
      expect(outcome.ok).toBe(true);
      expect(outcome.message).toBe(
        'marimo restarted and is ready (marimo 0.25.2).'
      );
      expect(model.restarting).toBe(false);
      expect(model.lastRestart).toBe(outcome);
      expect(seen.restarts).toEqual([outcome]);
    });

    it('explains a failed restart (500) with the log tail', async () => {
      const marimo = {
        ...healthyStatus().marimo,
        running: false,
        state: 'failed',
        error: 'marimo did not come back in time.',
        log_tail: 'Traceback...\nOSError: port in use'
      };
      const server = healthyServer().on('POST', 'restart', fails(500, marimo));
      model = makeModel(server);
      const outcome = await model.restart();
      expect(outcome.ok).toBe(false);
      expect(outcome.httpStatus).toBe(500);
      expect(outcome.message).toBe(
        'marimo did not come back after the restart: marimo did not come back in time.'
      );
      expect(outcome.logTail).toBe('Traceback...\nOSError: port in use');
      expect(outcome.marimo?.state).toBe('failed');
    });

    it('says marimo is not running when it is stopped (409)', async () => {
      const stopped = healthyStatus();
      stopped.marimo = { ...stopped.marimo, running: false, state: 'stopped' };
      const server = healthyServer()
        .on('GET', 'status', () => stopped)
        .on('POST', 'restart', fails(409, { message: 'not running' }));
      model = makeModel(server);
      const outcome = await model.restart();
      expect(outcome).toEqual({
        ok: false,
        message: NOT_RUNNING,
        marimo: stopped.marimo,
        logTail: null,
        httpStatus: 409
      });
    });

    it('gives the real reason of a failed start, not "not running" (409)', async () => {
      const failed = healthyStatus();
      failed.marimo = {
        ...failed.marimo,
        running: false,
        state: 'failed',
        error: 'No such option: --bogus',
        log_tail: 'Usage: marimo edit ...'
      };
      const server = healthyServer()
        .on('GET', 'status', () => failed)
        .on('POST', 'restart', fails(409, { message: 'not running' }));
      model = makeModel(server);
      const outcome = await model.restart();
      expect(outcome.ok).toBe(false);
      expect(outcome.message).toBe(
        'marimo failed to start: No such option: --bogus. Fix the cause, ' +
          'then restart or open marimo to retry.'
      );
      expect(outcome.logTail).toBe('Usage: marimo edit ...');
      expect(model.restarting).toBe(false);
    });
  });

  describe('groupPackages', () => {
    it('folds each dependency under the first package asked for that needs it', () => {
      const { requested, marimo } = groupPackages([
        {
          name: 'a',
          version: '1',
          source: 'user',
          origin: 'requested',
          required_by: []
        },
        {
          name: 'b',
          version: '1',
          source: 'user',
          origin: 'requested',
          required_by: []
        },
        {
          name: 'd',
          version: '1',
          source: 'user',
          origin: 'dependency',
          required_by: ['c', 'b']
        },
        {
          name: 'c',
          version: '1',
          source: 'user',
          origin: 'dependency',
          required_by: ['a']
        },
        {
          name: 'm',
          version: '1',
          source: 'user',
          origin: 'marimo',
          required_by: []
        },
        {
          name: 'x',
          version: '1',
          source: 'user',
          origin: 'dependency',
          required_by: ['y']
        },
        {
          name: 'y',
          version: '1',
          source: 'user',
          origin: 'dependency',
          required_by: ['x']
        },
        { name: 'old', version: '1', source: 'user' },
        { name: 'base', version: '1', source: 'base' }
      ]);
      const shape = (groups: typeof requested) =>
        groups.map(g => [g.pkg.name, g.dependencies.map(d => d.name)]);
      expect(shape(requested)).toEqual([
        ['a', ['c']],
        ['b', ['d']],
        ['old', []],
        ['x', ['y']]
      ]);
      expect(shape(marimo)).toEqual([['m', []]]);
    });
  });

  describe('following', () => {
    it('picks up a job started elsewhere and follows it from the start', async () => {
      const server = healthyServer()
        .on('GET', 'jobs', () => [
          job({
            id: 'old',
            state: 'succeeded',
            created: 1,
            offset: 3,
            message: 'old'
          }),
          job({ id: 'other', state: 'running', created: 2, offset: 5 })
        ])
        .on('GET', 'jobs/other', () =>
          job({
            id: 'other',
            state: 'succeeded',
            created: 2,
            log: ['1', '2'],
            message: 'done'
          })
        );
      model = makeModel(server);
      const seen = record(model);
      await model.refresh();
      await until(() => seen.finished.length === 1, 'the other job');

      expect(server.callsTo('GET', 'jobs/other')[0].query.get('offset')).toBe(
        '0'
      );
      expect(seen.finished[0].id).toBe('other');
      // A job that had finished before we looked is not announced.
      expect(server.callsTo('GET', 'jobs/old')).toHaveLength(0);
      expect(model.jobs.map(j => j.id)).toEqual(['old', 'other']);
    });

    it('retries failed polls, then says it lost track', async () => {
      const server = healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', fails(502, 'Bad Gateway'));
      model = makeModel(server);
      await model.install(['jmp-live']);
      await until(() => model!.followError !== null, 'giving up');
      expect(server.callsTo('GET', 'jobs/job1')).toHaveLength(3);
      expect(model.followError).toContain(
        'Lost track of the install of jmp-live'
      );
    });

    it('forgets a job the server no longer knows (404)', async () => {
      const server = healthyServer()
        .on('POST', 'packages', () => job())
        .on('GET', 'jobs/job1', fails(404, { message: 'No job job1.' }));
      model = makeModel(server);
      await model.install(['jmp-live']);
      await until(() => model!.jobs.length === 0, 'the job to be dropped');
      expect(model.currentJob).toBeNull();
    });
  });

  describe('repair', () => {
    function broken() {
      const status = healthyStatus();
      status.venv.healthy = false;
      status.venv.problems = ['marimo is not importable from the venv.'];
      return status;
    }

    it('queues a repair, follows it and reads the venv health again', async () => {
      let healthy = false;
      const server = healthyServer()
        .on('GET', 'status', () => (healthy ? healthyStatus() : broken()))
        .on('POST', 'repair', () =>
          job({ id: 'r1', kind: 'repair', specs: ['jmp-alpha'] })
        )
        .on('GET', 'jobs/r1', () => {
          healthy = true;
          return job({
            id: 'r1',
            kind: 'repair',
            specs: ['jmp-alpha'],
            state: 'succeeded',
            log: ['The venv was broken: rebuilt it.'],
            message: 'Rebuilt the broken venv; reinstalled jmp-alpha.'
          });
        });
      model = makeModel(server);
      const seen = record(model);
      await model.refresh();
      expect(model.venvProblems).toEqual([
        'marimo is not importable from the venv.'
      ]);

      const started = await model.repair();
      expect(started?.kind).toBe('repair');
      expect(server.callsTo('POST', 'repair')).toHaveLength(1);
      await until(() => seen.finished.length === 1, 'the repair');
      expect(seen.finished[0].message).toBe(
        'Rebuilt the broken venv; reinstalled jmp-alpha.'
      );
      await until(() => model!.venvProblems.length === 0, 'a healthy venv');
      expect(server.callsTo('GET', 'status').length).toBeGreaterThan(1);
      expect(model.repairJob).toBeNull();
    });

    it('does not queue a second repair while one waits', async () => {
      const server = healthyServer()
        .on('POST', 'repair', () => job({ id: 'r1', kind: 'repair' }))
        .on('GET', 'jobs/r1', () => new Promise(() => undefined));
      model = makeModel(server);
      const first = await model.repair();
      const second = await model.repair();
      expect(second).toBe(first);
      expect(model.repairJob?.id).toBe('r1');
      expect(server.callsTo('POST', 'repair')).toHaveLength(1);
    });

    it('reports a repair that could not be started', async () => {
      const server = healthyServer().on(
        'POST',
        'repair',
        fails(500, { message: 'state dir gone' })
      );
      model = makeModel(server);
      const seen = record(model);
      expect(await model.repair()).toBeNull();
      expect(seen.failures).toEqual([
        {
          action: 'repair',
          message: 'Could not repair the venv: state dir gone',
          httpStatus: 500
        }
      ]);
    });

    it('does not count a venv not created yet as broken', async () => {
      const status = healthyStatus();
      status.venv.exists = false;
      status.venv.healthy = false;
      status.venv.problems = [
        'The venv has not been created yet; it is created when marimo first opens.'
      ];
      model = makeModel(healthyServer().on('GET', 'status', () => status));
      await model.refresh();
      expect(model.venvProblems).toEqual([]);
    });
  });

  describe('installRequirements', () => {
    it('installs a requirements file as a job followed like any install', async () => {
      const server = healthyServer()
        .on('POST', 'packages', () =>
          job({ id: 'q1', specs: ['jmp-alpha', 'jmp-bravo'] })
        )
        .on('GET', 'jobs/q1', () =>
          job({
            id: 'q1',
            specs: ['jmp-alpha', 'jmp-bravo'],
            state: 'succeeded',
            message: 'Installed jmp-alpha, jmp-bravo: ...'
          })
        );
      model = makeModel(server);
      const seen = record(model);
      const result = await model.installRequirements('sub/requirements.txt');
      expect(result.ok).toBe(true);
      expect(server.callsTo('POST', 'packages')[0].body).toEqual({
        requirements_file: 'sub/requirements.txt'
      });
      await until(() => seen.finished.length === 1, 'the install');
      expect(model.currentJob?.id).toBe('q1');
    });

    it('reports a file the server refuses, leaving the form alone', async () => {
      const message =
        'requirements.txt, line 3: --index-url is an installer option; only package names are accepted.';
      const server = healthyServer().on(
        'POST',
        'packages',
        fails(400, { message })
      );
      model = makeModel(server);
      const seen = record(model);
      expect(await model.installRequirements('requirements.txt')).toEqual({
        ok: false,
        message
      });
      expect(seen.failures).toEqual([
        { action: 'install', message, httpStatus: 400 }
      ]);
      expect(model.installError).toBeNull();
    });
  });
});

function allLines(logs: ILogAppended[]): string[] {
  return ([] as string[]).concat(...logs.map(l => l.lines));
}
