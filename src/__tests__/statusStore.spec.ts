import { StatusStore } from '../statusStore';
import { IStatusCheck } from '../tokens';
import { deferred } from './fakeServer';
import { healthyStatus } from './fixtures';

function check(state: 'running' | 'failed'): IStatusCheck {
  const status = healthyStatus();
  status.marimo = { ...status.marimo, state, running: state === 'running' };
  return {
    kind: 'ok',
    title: 'marimo is available',
    message: '',
    detail: null,
    warnings: [],
    httpStatus: 200,
    status
  };
}

describe('StatusStore', () => {
  it('tells every listener each answer', async () => {
    const answers = [check('failed'), check('running')];
    const store = new StatusStore(async () => answers.shift()!);
    const seen: string[] = [];
    store.changed.connect((_, c) => seen.push(c.status!.marimo.state));
    expect(store.latest).toBeNull();
    await store.check();
    await store.check();
    expect(seen).toEqual(['failed', 'running']);
    expect(store.latest!.status!.marimo.state).toBe('running');
  });

  it('never lets an older answer that arrives late replace a newer one', async () => {
    const first = deferred<IStatusCheck>();
    const second = deferred<IStatusCheck>();
    const pending = [first, second];
    const store = new StatusStore(() => pending.shift()!.promise);
    const seen: string[] = [];
    store.changed.connect((_, c) => seen.push(c.status!.marimo.state));

    // Asked while marimo was failing; answered after a later question
    // that found it running again.
    const older = store.check();
    const newer = store.check();
    second.resolve(check('running'));
    await newer;
    first.resolve(check('failed'));
    expect((await older).status!.marimo.state).toBe('failed');
    expect(store.latest!.status!.marimo.state).toBe('running');
    expect(seen).toEqual(['running']);
  });
});
