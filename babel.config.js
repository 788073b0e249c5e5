// babel-jest only transpiles the ES-module-only dependencies that jest cannot
// load as they ship (see transformIgnorePatterns in jest.config.js).
const config = require('@jupyterlab/testing/lib/babel-config');

module.exports = config.default || config;
