/**
 * Names of the files the side-by-side commands act on. Pure functions of a
 * Jupyter contents path (relative to the root, `/`-separated), mirroring
 * what the server does, so that dialogs can name a file before the server
 * has written it.
 */
import { PathExt } from '@jupyterlab/coreutils';

/** What `POST convert` appends to a notebook's stem. */
export const MARIMO_SUFFIX = '.marimo.py';

/**
 * The document registry's pattern for marimo notebooks: recognised by name,
 * so that a double-click needs no request to the server.
 */
export const MARIMO_FILE_PATTERN = '^.*\\.marimo\\.py$';

export function basename(path: string): string {
  return PathExt.basename(path);
}

/** The folder holding a path: `''` for the root. */
export function dirname(path: string): string {
  const dir = PathExt.dirname(path);
  return dir === '.' || dir === '/' ? '' : dir;
}

/** `x.marimo.py`: opens in marimo on double-click. */
export function isMarimoName(path: string): boolean {
  return new RegExp(MARIMO_FILE_PATTERN).test(basename(path));
}

/** Any `.py` file: it may be a marimo app whatever its name; the server knows. */
export function isPythonFile(path: string): boolean {
  return basename(path).toLowerCase().endsWith('.py');
}

export function isJupyterNotebook(path: string): boolean {
  return basename(path).toLowerCase().endsWith('.ipynb');
}

/**
 * `requirements.txt` and its usual variants by name (`requirements-dev.txt`,
 * `dev-requirements.txt`); the server refuses a file with options.
 */
export function isRequirementsFile(path: string): boolean {
  return /(^|[-_.])requirements([-_.][^/]*)?\.txt$/i.test(basename(path));
}

/** `sub/x.ipynb` -> `sub/x.marimo.py`, where `POST convert` writes. */
export function marimoTargetFor(path: string): string {
  return PathExt.join(dirname(path), stem(path) + MARIMO_SUFFIX);
}

/** `sub/x.marimo.py` or `sub/x.py` -> `sub/x.ipynb`, where `POST export` writes. */
export function ipynbTargetFor(path: string): string {
  return PathExt.join(dirname(path), stem(path) + '.ipynb');
}

/** The name without `.marimo.py`, `.py` or `.ipynb`: `analysis`. */
export function stem(path: string): string {
  const name = basename(path);
  for (const suffix of [MARIMO_SUFFIX, '.py', '.ipynb']) {
    if (name.toLowerCase().endsWith(suffix) && name.length > suffix.length) {
      return name.slice(0, -suffix.length);
    }
  }
  return name;
}

/** Title of the tab that runs a notebook as an app: `▶ analysis`. */
export function appTabTitle(path: string): string {
  return `\u25B6 ${stem(path)}`;
}
