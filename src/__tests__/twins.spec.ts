import { ITwinPair, TwinsAPI } from '../twins/api';
import { BADGE_ATTRIBUTE, decorate, reportWidget } from '../twins/plugin';
import {
  badgeKind,
  badgesFor,
  isStale,
  pairOf,
  staleMessage
} from '../twins/state';

const PAIRS: ITwinPair[] = [
  {
    ipynb: 'demo/analysis.ipynb',
    marimo: 'demo/analysis.marimo.py',
    state: 'in-step',
    description: 'in step'
  },
  {
    ipynb: 'demo/report.ipynb',
    marimo: 'demo/report.marimo.py',
    state: 'marimo-changed',
    description: 'the marimo file changed since the last sync'
  },
  {
    ipynb: 'demo/clash.ipynb',
    marimo: 'demo/clash.marimo.py',
    state: 'conflict',
    description: 'both changed since the last sync (a conflict)'
  },
  {
    ipynb: 'demo/lone.ipynb',
    marimo: 'demo/lone.marimo.py',
    state: 'no-twin',
    description: 'has no twin yet'
  }
];

describe('twin states', () => {
  it('maps every state to a badge: in step, stale or conflict; none for a lone notebook', () => {
    expect(badgeKind('in-step')).toBe('in-step');
    expect(badgeKind('notebook-changed')).toBe('stale');
    expect(badgeKind('missing-marimo')).toBe('stale');
    expect(badgeKind('conflict')).toBe('conflict');
    expect(badgeKind('unrecorded')).toBe('conflict');
    expect(badgeKind('no-twin')).toBeNull();
    expect(isStale('in-step')).toBe(false);
    expect(isStale('marimo-changed')).toBe(true);
  });

  it('puts the badge on both files of a pair', () => {
    const badges = badgesFor(PAIRS);
    expect(badges.get('report.ipynb')?.kind).toBe('stale');
    expect(badges.get('report.marimo.py')?.kind).toBe('stale');
    expect(badges.get('analysis.marimo.py')?.title).toContain('in step');
    expect(badges.has('lone.ipynb')).toBe(false);
  });

  it('finds the pair of either side and says why a twin is stale', () => {
    expect(pairOf('demo/report.marimo.py', PAIRS)?.ipynb).toBe(
      'demo/report.ipynb'
    );
    expect(pairOf('demo/lone.ipynb', PAIRS)).toBeNull();
    const message = staleMessage('demo/report.ipynb', PAIRS[1]);
    expect(message).toContain('report.marimo.py');
    expect(message).toContain('Sync twin');
  });
});

describe('file browser decoration', () => {
  it('marks listed items and clears a mark that no longer applies', () => {
    const node = document.createElement('div');
    for (const name of ['analysis.ipynb', 'report.marimo.py', 'other.txt']) {
      const item = document.createElement('li');
      item.className = 'jp-DirListing-item';
      const text = document.createElement('span');
      text.className = 'jp-DirListing-itemText';
      text.textContent = name;
      item.appendChild(text);
      node.appendChild(item);
    }
    const items = node.querySelectorAll('li');
    items[2].setAttribute(BADGE_ATTRIBUTE, 'stale');
    decorate(node, PAIRS);
    expect(items[0].getAttribute(BADGE_ATTRIBUTE)).toBe('in-step');
    expect(items[1].getAttribute(BADGE_ATTRIBUTE)).toBe('stale');
    expect(items[2].hasAttribute(BADGE_ATTRIBUTE)).toBe(false);
  });

  it('shows the report in a closable tab', () => {
    const widget = reportWidget('demo/analysis.ipynb', 'twins: 1 pair(s); OK');
    expect(widget.title.label).toBe('Twin outputs: analysis.ipynb');
    expect(widget.content.node.textContent).toContain('twins: 1 pair(s); OK');
    widget.dispose();
  });
});

describe('TwinsAPI', () => {
  it('asks for a folder, syncs and checks a file', async () => {
    const calls: [string, RequestInit | undefined][] = [];
    const request = async <T>(endpoint: string, init?: RequestInit) => {
      calls.push([endpoint, init]);
      return (endpoint.startsWith('twins?') ? { pairs: PAIRS } : {}) as T;
    };
    const api = new TwinsAPI(request);
    expect(await api.list('demo')).toHaveLength(4);
    await api.list('');
    await api.sync('demo/report.ipynb', { from: 'marimo', force: true });
    await api.check('demo/report.ipynb');
    expect(calls.map(c => c[0])).toEqual([
      'twins?path=demo',
      'twins?path=.',
      'twins/sync',
      'twins/check'
    ]);
    expect(JSON.parse(calls[2][1]!.body as string)).toEqual({
      path: 'demo/report.ipynb',
      from: 'marimo',
      force: true
    });
    expect(calls[3][1]!.method).toBe('POST');
  });
});
