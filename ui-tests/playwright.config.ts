/**
 * Playwright configuration for the jupyter-marimo-proxy browser tests.
 *
 * Playwright starts JupyterLab itself (webServer below) with
 * jupyter_server_test_config.py, which gives every run a fresh copy of
 * demo/ as the Jupyter root and a fresh state directory for the extension.
 * `jupyter` must be on PATH: run.sh puts the project's .venv/bin first.
 *
 * Browser: the system Chromium (Playwright cannot download its own build
 * here). Video is off because there is no ffmpeg.
 */
import { defineConfig } from '@playwright/test';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const PORT = process.env.UI_TESTS_PORT ?? '8899';
const BASE_URL = `http://127.0.0.1:${PORT}`;
const CHROMIUM = process.env.UI_TESTS_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  ...baseConfig,
  testDir: './tests',
  outputDir: './test-results',
  // marimo's first launch (venv creation + server start) can take 10-20 s on
  // a 2-core machine, so be generous.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    ...baseConfig.use,
    baseURL: BASE_URL,
    headless: true,
    video: 'off',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    // Jupyter's own log goes to logs/jupyter.log, not the console: the test
    // command's output stays one line per test.
    command: 'mkdir -p logs && exec jupyter lab --config jupyter_server_test_config.py > logs/jupyter.log 2>&1',
    url: `${BASE_URL}/lab`,
    env: { ...process.env, UI_TESTS_PORT: PORT } as Record<string, string>,
    // Always a fresh server: each run must start without a user venv. Set
    // UI_TESTS_REUSE_SERVER=1 to attach to one you started yourself.
    reuseExistingServer: !!process.env.UI_TESTS_REUSE_SERVER,
    timeout: 120_000,
    // Playwright's default is SIGKILL to the process group, which gives
    // Jupyter no chance to stop marimo (started in its own session).
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
    stdout: 'pipe',
    stderr: 'pipe'
  }
});
