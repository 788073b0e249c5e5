import { splitSpecs } from '../packages/specs';

describe('splitSpecs', () => {
  it('takes one spec per line', () => {
    expect(splitSpecs('requests\npandas==2.2.3\nrich[jupyter]>=13\n')).toEqual([
      'requests',
      'pandas==2.2.3',
      'rich[jupyter]>=13'
    ]);
  });

  it('splits a line of bare names on spaces', () => {
    expect(splitSpecs('numpy  scipy\tpolars')).toEqual([
      'numpy',
      'scipy',
      'polars'
    ]);
  });

  it('keeps a line with a version, extra, marker or list whole', () => {
    expect(
      splitSpecs(
        [
          'pandas >= 2, < 3',
          'rich [jupyter]',
          "numpy ; python_version > '3.8'",
          'pkg @ https://example.org/pkg.whl',
          'a ~= 1.0',
          'b != 2',
          'c, d'
        ].join('\n')
      )
    ).toEqual([
      'pandas >= 2, < 3',
      'rich [jupyter]',
      "numpy ; python_version > '3.8'",
      'pkg @ https://example.org/pkg.whl',
      'a ~= 1.0',
      'b != 2',
      'c, d'
    ]);
  });

  it('ignores blank lines, surrounding spaces and comments', () => {
    expect(
      splitSpecs('  \n  requests  \r\n# a comment\nhttpx # why\n\n')
    ).toEqual(['requests', 'httpx']);
  });

  it('drops a pasted pip or uv command prefix', () => {
    expect(splitSpecs('pip install requests httpx')).toEqual([
      'requests',
      'httpx'
    ]);
    expect(splitSpecs('%pip install polars')).toEqual(['polars']);
    expect(splitSpecs('!pip3 install "x"')).toEqual(['"x"']);
    expect(splitSpecs('python -m pip install a==1')).toEqual(['a==1']);
    expect(splitSpecs('uv pip install b')).toEqual(['b']);
    expect(splitSpecs('uv add c>=2')).toEqual(['c>=2']);
    // A package that merely starts with "pip" stays.
    expect(splitSpecs('pipdeptree')).toEqual(['pipdeptree']);
  });

  it('leaves options for the server to refuse', () => {
    expect(splitSpecs('pip install -U requests')).toEqual(['-U', 'requests']);
    expect(splitSpecs('--index-url=https://evil.example')).toEqual([
      '--index-url=https://evil.example'
    ]);
  });

  it('drops repeats and keeps the order', () => {
    expect(splitSpecs('b a\nb\nc a')).toEqual(['b', 'a', 'c']);
  });

  it('gives nothing for an empty field', () => {
    expect(splitSpecs('')).toEqual([]);
    expect(splitSpecs('  \n # only a comment\n')).toEqual([]);
  });
});
