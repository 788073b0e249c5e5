// Start from @jupyterlab/testing's config (jsdom environment with fetch,
// svg loader, ts-jest) and widen its list of ES-module-only packages that
// must be transpiled: outside the JupyterLab monorepo, @jupyterlab/* itself
// ships ES modules, and @jupyterlab/apputils pulls in all of the others.
const jestJupyterLab = require('@jupyterlab/testing/lib/jest-config');

const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@marijn',
  '@microsoft',
  'color',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  // Only src/: the build output and the Python venv hold package.json files
  // that jest's module map would otherwise report as name collisions.
  roots: ['<rootDir>/src'],
  // The base config also writes junit.xml and GitHub annotations; a local
  // run should leave no files behind.
  reporters: ['default'],
  testRegex: 'src/__tests__/.*\\.spec\\.ts$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`],
  collectCoverageFrom: ['src/**/*.ts', '!src/**/*.d.ts', '!src/__tests__/**'],
  coverageReporters: ['text']
};
