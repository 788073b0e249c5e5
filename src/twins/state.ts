/**
 * What the file browser shows for a twin's state: pure functions, tested in jest.
 */
import { ITwinPair, TwinState } from './api';

/** The three looks of a badge: in step, stale (one side changed or missing), conflict. */
export type BadgeKind = 'in-step' | 'stale' | 'conflict';

export function badgeKind(state: TwinState): BadgeKind | null {
  switch (state) {
    case 'in-step':
      return 'in-step';
    case 'conflict':
    case 'unrecorded':
      return 'conflict';
    case 'no-twin':
      return null;
    default:
      return 'stale';
  }
}

export function isStale(state: TwinState): boolean {
  const kind = badgeKind(state);
  return kind === 'stale' || kind === 'conflict';
}

/** The pair a file belongs to, on either side. */
export function pairOf(path: string, pairs: ITwinPair[]): ITwinPair | null {
  return (
    pairs.find(
      pair =>
        pair.state !== 'no-twin' &&
        (pair.ipynb === path || pair.marimo === path)
    ) ?? null
  );
}

function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

/** The badges of a folder listing: file name -> (kind, tooltip). */
export function badgesFor(
  pairs: ITwinPair[]
): Map<string, { kind: BadgeKind; title: string }> {
  const badges = new Map<string, { kind: BadgeKind; title: string }>();
  for (const pair of pairs) {
    const kind = badgeKind(pair.state);
    if (!kind) {
      continue;
    }
    const names = [baseName(pair.ipynb), baseName(pair.marimo)];
    const title = `Twin of ${names[0]} and ${names[1]}: ${pair.description}`;
    for (const name of names) {
      badges.set(name, { kind, title });
    }
  }
  return badges;
}

/** What opening a stale twin says. */
export function staleMessage(path: string, pair: ITwinPair): string {
  const other = pair.ipynb === path ? pair.marimo : pair.ipynb;
  return `${baseName(path)} is not in step with its twin ${baseName(other)}: ${pair.description}. Use "Sync twin" to bring them in step.`;
}
