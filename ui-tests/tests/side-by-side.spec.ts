/**
 * Journey 5 of DESIGN.md, "Both formats", in a real browser: Jupyter and
 * marimo notebooks side by side in the file browser.
 *
 * The Jupyter root is a fresh copy of demo/ (jupyter_server_test_config.py):
 * `analysis.ipynb` and `analysis.marimo.py` (the same analysis in both
 * formats: a markdown heading "Temperature by site", a summary dict with
 * `mean_c`, a table of means per site), `data/measurements.csv`,
 * `requirements.txt`.
 *
 * The contract tested here:
 * - "Convert to marimo" on analysis.ipynb (file browser context menu) asks
 *   before replacing the existing analysis.marimo.py; after "Replace" a
 *   notification offers "Open in marimo", which opens a tab titled
 *   analysis.marimo.py where marimo's editor renders the notebook;
 * - a double-click on analysis.marimo.py opens marimo (not the text
 *   editor), in a tab whose iframe is on `<base>marimo/?file=...`;
 * - "Run as app" opens a tab "▶ analysis" showing the notebook's outputs
 *   (the summary with `mean_c`), without its code; a page reload restores
 *   it and the notebook's marimo tab;
 * - "New marimo notebook" on the file browser's background creates
 *   untitled.marimo.py and opens it in marimo;
 * - "Open in marimo" on a `.py` that is not a marimo notebook says why;
 * - "Install into marimo venv" on a requirements file installs it in the
 *   "Install package" sidebar;
 * - the Launcher (Notebook section) and the kernel list have
 *   "Python (marimo venv)".
 *
 * marimo 0.25 in a notebook: markdown output is rendered HTML inside the
 * cell outputs (`h1` for "# ..."); in the editor, cells have
 * `[data-testid="cell-editor"]`; in the app view (`view-as=present`) they
 * do not.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { FrameLocator, Locator } from '@playwright/test';

import {
  baseUrl,
  cardsLabelled,
  contextMenu,
  fileItem,
  launcher,
  MARIMO_LOAD_TIMEOUT,
  recordConsole,
  snapshot,
  tab,
  toast
} from './marimo-helpers';

const KERNEL_LABEL = 'Python (marimo venv)';
const HEADING = 'Temperature by site';

test.use({ autoGoto: true });

recordConsole(test);

/**
 * Galata opens the file browser in a fresh folder of its own for each test
 * (`tmpPath`); the demo's files are at the root.
 */
async function openRoot(page: IJupyterLabPageFixture): Promise<void> {
  await page.filebrowser.openHomeDirectory();
  await expect(fileItem(page, 'analysis.ipynb')).toHaveCount(1);
}

/** The visible marimo notebook or app tab's panel. */
function visiblePanel(page: IJupyterLabPageFixture, kind: 'notebook' | 'app'): Locator {
  return page.locator(`.jp-MarimoProxy-${kind}Tab:visible`);
}

async function frameOf(panel: Locator): Promise<FrameLocator> {
  await expect(panel.locator('iframe')).toHaveCount(1, { timeout: 30_000 });
  return panel.frameLocator('iframe');
}

/** Where the marimo tab's iframe points, as a URL. */
async function frameUrl(page: IJupyterLabPageFixture, panel: Locator): Promise<URL> {
  const src = await panel.locator('iframe').getAttribute('src');
  expect(src, 'iframe src').toBeTruthy();
  return new URL(src!, page.url());
}

test.describe('Jupyter and marimo side by side', () => {
  test('convert analysis.ipynb, confirm the overwrite, open it in marimo', async ({
    page
  }, testInfo) => {
    await openRoot(page);
    await expect(fileItem(page, 'analysis.marimo.py')).toHaveCount(1);
    await contextMenu(page, fileItem(page, 'analysis.ipynb'), 'Convert to marimo');

    // analysis.marimo.py exists: JupyterLab's dialog asks first.
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText('Replace analysis.marimo.py?');
    await expect(dialog).toContainText('already exists next to analysis.ipynb');
    await snapshot(page, testInfo, 'convert-dialog.png');
    await dialog.getByRole('button', { name: 'Replace' }).click();
    await expect(dialog).toHaveCount(0);

    const done = toast(page, 'Converted analysis.ipynb to analysis.marimo.py.');
    await expect(done).toBeVisible({ timeout: 60_000 });
    await done.getByRole('button', { name: 'Open in marimo' }).click();

    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(1);
    const panel = visiblePanel(page, 'notebook');
    const frame = await frameOf(panel);
    const url = await frameUrl(page, panel);
    expect(url.pathname).toBe(`${await baseUrl(page)}marimo/`);
    expect(url.searchParams.get('file')).toBe('analysis.marimo.py');

    // marimo's editor renders the converted notebook: its markdown heading
    // and the code of its cells.
    await expect(frame.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await expect(frame.getByTestId('cell-editor').first()).toBeVisible();
    await expect(frame.locator('.cm-content', { hasText: 'statistics.mean' }).first()).toBeVisible();
    await snapshot(page, testInfo, 'converted-in-marimo.png');
  });

  test('a double-click opens analysis.marimo.py in marimo, not in the editor', async ({
    page
  }, testInfo) => {
    await openRoot(page);
    await fileItem(page, 'analysis.marimo.py').dblclick();

    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(1);
    const panel = visiblePanel(page, 'notebook');
    await expect(panel).toBeVisible();
    await expect(page.locator('.jp-FileEditor:visible')).toHaveCount(0);
    const url = await frameUrl(page, panel);
    expect(url.searchParams.get('file')).toBe('analysis.marimo.py');
    const frame = await frameOf(panel);
    await expect(frame.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await snapshot(page, testInfo, 'double-click.png');

    // An ordinary .py still opens in the editor.
    await page.evaluate(async () => {
      await window.jupyterapp.serviceManager.contents.save('plain.py', {
        type: 'file',
        format: 'text',
        content: 'print("hello")\n'
      });
    });
    await page.filebrowser.refresh();
    await fileItem(page, 'plain.py').dblclick();
    await expect(tab(page, 'plain.py')).toHaveCount(1);
    await expect(page.locator('.jp-FileEditor:visible')).toHaveCount(1);
    await expect(visiblePanel(page, 'notebook')).toHaveCount(0);

    // ... and "Open in marimo" on it says why marimo will not open it.
    await contextMenu(page, fileItem(page, 'plain.py'), 'Open in marimo');
    await expect(
      toast(page, /Could not open plain\.py in marimo: plain\.py is not a marimo notebook/)
    ).toBeVisible();
  });

  test('run analysis.marimo.py as an app', async ({ page }, testInfo) => {
    await openRoot(page);
    await contextMenu(page, fileItem(page, 'analysis.marimo.py'), 'Run as app');

    await expect(tab(page, '\u25B6 analysis')).toHaveCount(1);
    const panel = visiblePanel(page, 'app');
    const frame = await frameOf(panel);
    const url = await frameUrl(page, panel);
    expect(url.searchParams.get('file')).toBe('analysis.marimo.py');
    // marimo run's route: a kernel of its own, not the editor's session.
    expect(url.pathname).toBe(`${await baseUrl(page)}marimo-apps/`);

    // The outputs, computed live: the heading and the summary's mean.
    await expect(frame.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    // (The app view keeps the code in the page, hidden: look at what shows.)
    await expect(frame.getByText('mean_c').filter({ visible: true }).first()).toBeVisible({
      timeout: 60_000
    });
    await expect(frame.getByText('14.79').filter({ visible: true }).first()).toBeVisible();
    // ... and no code.
    await expect(frame.getByTestId('cell-editor').filter({ visible: true })).toHaveCount(0);
    await expect(frame.getByText('statistics.mean').filter({ visible: true })).toHaveCount(0);
    await snapshot(page, testInfo, 'app.png');

    // With the notebook open in marimo too, a page reload brings both tabs
    // back, each on its file.
    await fileItem(page, 'analysis.marimo.py').dblclick();
    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(1);
    await page.reload({ waitForIsReady: false } as Parameters<typeof page.reload>[0]);
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(1, { timeout: 30_000 });
    await expect(tab(page, '\u25B6 analysis')).toHaveCount(1);
    await tab(page, '\u25B6 analysis').click();
    const restoredApp = await frameUrl(page, visiblePanel(page, 'app'));
    expect(restoredApp.pathname).toBe(`${await baseUrl(page)}marimo-apps/`);
    await tab(page, 'analysis.marimo.py').click();
    const restored = await frameUrl(page, visiblePanel(page, 'notebook'));
    expect(restored.searchParams.get('file')).toBe('analysis.marimo.py');
    expect(restored.searchParams.get('view-as')).toBeNull();
  });

  test('"New marimo notebook" creates untitled.marimo.py and opens it', async ({
    page,
    tmpPath
  }, testInfo) => {
    // In the test's own (empty) folder, where the file browser is.
    const expected = 'untitled.marimo.py';
    await expect(page.locator('.jp-DirListing-item')).toHaveCount(0);

    // The file browser's background, below the files.
    const listing = page.locator('.jp-DirListing-content');
    const box = (await listing.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height - 10, {
      button: 'right'
    });
    await page
      .locator('.lm-Menu-item')
      .filter({ has: page.locator('.lm-Menu-itemLabel', { hasText: /^New marimo notebook$/ }) })
      .click();

    await expect(fileItem(page, expected)).toHaveCount(1);
    await expect(tab(page, expected)).toHaveCount(1);
    const panel = visiblePanel(page, 'notebook');
    const frame = await frameOf(panel);
    expect((await frameUrl(page, panel)).searchParams.get('file')).toBe(
      `${tmpPath}/${expected}`
    );
    await expect(frame.getByTestId('cell-editor').first()).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await snapshot(page, testInfo, 'new-notebook.png');
  });

  test('"Install into marimo venv" on a requirements file', async ({ page }) => {
    // A project requirements file of fixture wheels (the demo's lists
    // marimo, which the offline test index does not serve).
    await page.evaluate(async () => {
      await window.jupyterapp.serviceManager.contents.save('requirements-extra.txt', {
        type: 'file',
        format: 'text',
        content: '# extra packages\njmp-alpha\n'
      });
    });
    await openRoot(page);
    await contextMenu(page, fileItem(page, 'requirements-extra.txt'), 'Install into marimo venv');

    const panel = page.locator('#jupyter-marimo-proxy-packages.jp-MarimoPackages');
    await expect(panel).toBeVisible();
    // The outcome is the job's line in the open sidebar (no toast while it shows).
    await expect(panel.locator('.jp-MarimoPackages-jobTitle')).toHaveText('Installed jmp-alpha 1.0', {
      timeout: 60_000
    });
    await expect(
      panel.locator('.jp-MarimoPackages-user [data-package="jmp-alpha"]')
    ).toBeVisible();
  });

  test('the Launcher and the kernel list have "Python (marimo venv)"', async ({ page }) => {
    const scope = await launcher(page);
    const notebookSection = scope.locator('.jp-Launcher-section').filter({
      has: page.locator('.jp-Launcher-sectionTitle', { hasText: /^\s*Notebook\s*$/ })
    });
    await expect(cardsLabelled(notebookSection, KERNEL_LABEL.replace(/[()]/g, '\\$&'))).toHaveCount(1);

    const specs = await page.evaluate(async () => {
      const manager = window.jupyterapp.serviceManager.kernelspecs;
      await manager.ready;
      return Object.fromEntries(
        Object.entries(manager.specs?.kernelspecs ?? {}).map(([name, spec]) => [
          name,
          spec?.display_name
        ])
      );
    });
    expect(specs['marimo-venv']).toBe(KERNEL_LABEL);
  });
});
