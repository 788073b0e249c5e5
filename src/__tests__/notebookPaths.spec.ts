import {
  appTabTitle,
  dirname,
  ipynbTargetFor,
  isJupyterNotebook,
  isMarimoName,
  isPythonFile,
  isRequirementsFile,
  MARIMO_FILE_PATTERN,
  marimoTargetFor,
  stem
} from '../notebooks/paths';

describe('notebook paths', () => {
  it('recognises marimo notebooks by name, as the file type pattern does', () => {
    expect(MARIMO_FILE_PATTERN).toBe('^.*\\.marimo\\.py$');
    expect(isMarimoName('analysis.marimo.py')).toBe(true);
    expect(isMarimoName('sub/dir/untitled1.marimo.py')).toBe(true);
    expect(isMarimoName('analysis.py')).toBe(false);
    expect(isMarimoName('marimo.py')).toBe(false);
    expect(isMarimoName('analysis.marimo.py.bak')).toBe(false);
    expect(isMarimoName('analysis.marimo.pyc')).toBe(false);
  });

  it('tells Python files, notebooks and requirements files apart', () => {
    expect(isPythonFile('x.py')).toBe(true);
    expect(isPythonFile('x.marimo.py')).toBe(true);
    expect(isPythonFile('X.PY')).toBe(true);
    expect(isPythonFile('x.pyc')).toBe(false);
    expect(isPythonFile('x.ipynb')).toBe(false);
    expect(isJupyterNotebook('sub/x.ipynb')).toBe(true);
    expect(isJupyterNotebook('x.ipynb.txt')).toBe(false);
    for (const name of [
      'requirements.txt',
      'sub/requirements.txt',
      'requirements-dev.txt',
      'dev-requirements.txt',
      'requirements_test.txt',
      'Requirements.txt'
    ]) {
      expect([name, isRequirementsFile(name)]).toEqual([name, true]);
    }
    for (const name of [
      'requirements.in',
      'myrequirements.txt',
      'requirements/base.txt',
      'notes.txt',
      'requirements.txt.bak'
    ]) {
      expect([name, isRequirementsFile(name)]).toEqual([name, false]);
    }
  });

  it('names the files convert and export write, next to the source', () => {
    expect(marimoTargetFor('analysis.ipynb')).toBe('analysis.marimo.py');
    expect(marimoTargetFor('sub/dir/a b.ipynb')).toBe('sub/dir/a b.marimo.py');
    expect(ipynbTargetFor('analysis.marimo.py')).toBe('analysis.ipynb');
    expect(ipynbTargetFor('sub/app.py')).toBe('sub/app.ipynb');
  });

  it('titles an app tab with the notebook stem', () => {
    expect(stem('sub/analysis.marimo.py')).toBe('analysis');
    expect(stem('app.py')).toBe('app');
    expect(stem('x.ipynb')).toBe('x');
    expect(stem('.py')).toBe('.py');
    expect(appTabTitle('sub/analysis.marimo.py')).toBe('\u25B6 analysis');
  });

  it('gives the root folder as empty', () => {
    expect(dirname('analysis.ipynb')).toBe('');
    expect(dirname('sub/dir/x.py')).toBe('sub/dir');
  });
});
