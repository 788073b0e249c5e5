/**
 * Issue #12, "Everything opens in JupyterLab": the journeys a new user
 * takes, each kept inside JupyterLab.
 *
 * - The Launcher's "marimo notebook" tile (Notebook section, beside the
 *   "marimo" tile) creates a notebook in the file browser's folder and
 *   opens it in a Lab tab with the cursor in its empty cell: `1+1` runs and
 *   shows `2`, and no browser window opens. File > New has it too.
 * - Links in marimo's home (a file of its workspace list, "Create a new
 *   notebook") open Lab tabs, not browser tabs.
 * - "Run as app" runs on marimo run's route (`marimo-apps/`): a kernel of
 *   its own, no editor chrome; the editor of the same file, side by side,
 *   stays an editor (never "connected as a reader").
 * - marimo's own shutdown button: marimo starts again and every open tab
 *   reconnects by itself.
 * - JupyterLab's dark theme: marimo turns dark, and back, without a reload.
 * - The Running sidebar has a "marimo" section listing the notebook marimo
 *   runs; its shut-down button ends that session.
 *
 * How marimo 0.25 is recognised: see marimo-helpers.ts and
 * side-by-side.spec.ts (`cell-editor`, `console-output-area`,
 * `output-area`).
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { FrameLocator, Locator, Page } from '@playwright/test';

import {
  baseUrl,
  cardsLabelled,
  expectMarimoLoaded,
  fileItem,
  launcher,
  MARIMO_LOAD_TIMEOUT,
  marimoFrame,
  openFromLauncher,
  recordConsole,
  snapshot,
  tab
} from './marimo-helpers';

const NEW_TILE = 'marimo notebook';
const HEADING = 'Temperature by site';

test.use({ autoGoto: true });

recordConsole(test);

/** Fail the test if anything opens a browser tab or window. */
function forbidPopups(page: IJupyterLabPageFixture): () => string[] {
  const opened: string[] = [];
  page.context().on('page', (popup: Page) => opened.push(popup.url()));
  page.on('popup', (popup: Page) => opened.push(popup.url()));
  return () => opened;
}

function visiblePanel(page: IJupyterLabPageFixture, kind: 'notebook' | 'app'): Locator {
  return page.locator(`.jp-MarimoProxy-${kind}Tab:visible`);
}

async function frameOf(panel: Locator): Promise<FrameLocator> {
  await expect(panel.locator('iframe')).toHaveCount(1, { timeout: 30_000 });
  return panel.frameLocator('iframe');
}

/** Whether "Starting marimo…" ever showed in a marimo tab from now on. */
async function watchStartingMessage(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(() => {
    (window as any).__sawStarting = false;
    const seen = () => {
      if (document.querySelector('.jp-MarimoProxy-starting, .jp-MarimoProxy-message.jp-mod-checking')) {
        (window as any).__sawStarting = true;
      }
    };
    new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
  });
}

test.describe('Everything opens in JupyterLab', () => {
  test('the "marimo notebook" tile: a new notebook in a Lab tab, 1+1 gives 2, no popup', async ({
    page,
    tmpPath
  }, testInfo) => {
    const popups = forbidPopups(page);
    const scope = await launcher(page);
    const notebookSection = scope.locator('.jp-Launcher-section').filter({
      has: page.locator('.jp-Launcher-sectionTitle', { hasText: /^\s*Notebook\s*$/ })
    });
    // The two read as a family: "marimo notebook" and "marimo", side by side.
    await expect(cardsLabelled(notebookSection, NEW_TILE)).toHaveCount(1);
    await expect(cardsLabelled(notebookSection, 'marimo')).toHaveCount(1);
    await snapshot(page, testInfo, 'launcher-tiles.png');

    await watchStartingMessage(page);
    await cardsLabelled(notebookSection, NEW_TILE).click();

    // Created in the file browser's folder, opened in a Lab tab.
    await expect(tab(page, 'untitled.marimo.py')).toHaveCount(1, { timeout: 30_000 });
    await expect(fileItem(page, 'untitled.marimo.py')).toHaveCount(1);
    const panel = visiblePanel(page, 'notebook');
    const frame = await frameOf(panel);
    const src = new URL((await panel.locator('iframe').getAttribute('src'))!, page.url());
    expect(src.pathname).toBe(`${await baseUrl(page)}marimo/`);
    expect(src.searchParams.get('file')).toBe(`${tmpPath}/untitled.marimo.py`);

    // Ready to type: the cursor is in the empty cell, the second one (the
    // first is `import marimo as mo`). Not "any focused editor": marimo may
    // focus the first cell for a moment before the cursor is moved.
    const cell = frame.locator('.marimo-cell').nth(1);
    const focused = cell.locator('[data-testid="cell-editor"] .cm-content:focus');
    await expect(focused).toHaveCount(1, { timeout: MARIMO_LOAD_TIMEOUT });
    expect(await page.evaluate(() => (window as any).__sawStarting)).toBe(true);
    await page.keyboard.type('1+1');
    await expect(focused).toHaveText('1+1');
    await page.keyboard.press('Control+Enter');
    // The cell's output (the editor holds "1+1", its gutter "1").
    await expect(cell.getByText('2', { exact: true })).toBeVisible({ timeout: 60_000 });
    await snapshot(page, testInfo, 'new-notebook-ran.png');
    expect(popups()).toEqual([]);

    // File > New has the same entry.
    await page.locator('.lm-MenuBar-itemLabel', { hasText: /^File$/ }).click();
    await page.locator('.lm-Menu-itemLabel', { hasText: /^New$/ }).first().hover();
    await expect(
      page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${NEW_TILE}$`) })
    ).toBeVisible();
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
  });

  test('links in marimo’s home open Lab tabs', async ({ page }) => {
    const popups = forbidPopups(page);
    await openFromLauncher(page);
    await expectMarimoLoaded(page);
    const home = marimoFrame(page);

    // A file of the workspace list.
    await home
      .locator('[role="treeitem"] a')
      .filter({ hasText: /^analysis\.marimo\.py$/ })
      .click();
    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(1, { timeout: 30_000 });
    const frame = await frameOf(visiblePanel(page, 'notebook'));
    await expect(frame.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });

    // "Create a new notebook": a new file, in a Lab tab.
    await tab(page, 'marimo').click();
    await home.getByRole('heading', { name: 'Create a new notebook' }).click();
    await expect(tab(page, /^untitled\d*\.marimo\.py$/)).toHaveCount(1, { timeout: 30_000 });
    const created = await frameOf(visiblePanel(page, 'notebook'));
    await expect(created.getByTestId('cell-editor').first()).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    expect(popups()).toEqual([]);
  });

  test('app and editor of one file side by side, both live', async ({ page }, testInfo) => {
    await page.filebrowser.openHomeDirectory();
    await fileItem(page, 'analysis.marimo.py').dblclick();
    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(1);
    const editor = await frameOf(visiblePanel(page, 'notebook'));
    await expect(editor.getByTestId('cell-editor').first()).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });

    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('jupyter-marimo-proxy:run-as-app', {
        path: 'analysis.marimo.py'
      });
    });
    await expect(tab(page, '\u25B6 analysis')).toHaveCount(1);
    // Side by side: the app to the right of the editor.
    await page.evaluate(() => {
      const shell = window.jupyterapp.shell as any;
      const widgets = Array.from(shell.widgets('main')) as any[];
      const app = widgets.find(w => w.hasClass('jp-MarimoProxy-appTab'));
      const notebook = widgets.find(w => w.hasClass('jp-MarimoProxy-notebookTab'));
      shell.add(app, 'main', { mode: 'split-right', ref: notebook.id });
    });
    const appPanel = visiblePanel(page, 'app');
    const app = await frameOf(appPanel);
    const url = new URL((await appPanel.locator('iframe').getAttribute('src'))!, page.url());
    expect(url.pathname).toBe(`${await baseUrl(page)}marimo-apps/`);

    // The app: computed outputs, no code, no editor chrome.
    await expect(app.getByText('14.79').filter({ visible: true }).first()).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await expect(app.getByTestId('cell-editor')).toHaveCount(0);
    await expect(app.getByText(/Reconnected to an existing session/)).toHaveCount(0);

    // The editor stays an editor (editable cells), never a reader.
    await expect(editor.getByText(/connected as a reader/i)).toHaveCount(0);
    await expect(
      editor.locator('[data-testid="cell-editor"] .cm-content[contenteditable="true"]').first()
    ).toBeVisible();
    await snapshot(page, testInfo, 'app-and-editor.png');

    // The app's widgets are live on its own kernel: another site, another mean.
    // (east's mean is 14.79, north's 12.03: demo/data/measurements.csv)
    await app.locator('select').first().selectOption('north');
    await expect(app.getByText('12.03').filter({ visible: true }).first()).toBeVisible({
      timeout: 30_000
    });
  });

  test('after marimo’s own shutdown button or a restart every tab reconnects', async ({ page }) => {
    const popups = forbidPopups(page);
    await page.filebrowser.openHomeDirectory();
    await fileItem(page, 'analysis.marimo.py').dblclick();
    const notebook = await frameOf(visiblePanel(page, 'notebook'));
    await expect(notebook.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await openFromLauncher(page);
    await expectMarimoLoaded(page);
    const home = marimoFrame(page);
    // A mark in each frame's page: gone once the tab has reloaded.
    const frames = page.locator('.jp-MarimoProxy-frame');
    await expect(frames).toHaveCount(2);
    await frames.evaluateAll(all =>
      all.forEach(el => (((el as HTMLIFrameElement).contentWindow as any).__before = 1))
    );

    // marimo's red X, and its confirmation.
    await home.getByTestId('shutdown-button').click();
    await home
      .locator('[role=alertdialog] button, [role=dialog] button')
      .filter({ hasText: /^Shutdown$/ })
      .click();
    // marimo starts again and both tabs reload by themselves.
    await expect
      .poll(
        () =>
          frames.evaluateAll(all =>
            all.filter(el => ((el as HTMLIFrameElement).contentWindow as any)?.__before).length
          ),
        { timeout: MARIMO_LOAD_TIMEOUT }
      )
      .toBe(0);
    await expect(home.getByRole('heading', { name: 'Create a new notebook' })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    // ... on a new start of marimo: its frame was reloaded.
    await expect(home.getByText(/Unauthorized|Failed to instantiate/)).toHaveCount(0);
    // ... and so does the notebook's.
    await tab(page, 'analysis.marimo.py').click();
    await expect(notebook.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await expect(notebook.getByText(/Unauthorized|Failed to instantiate/)).toHaveCount(0);

    // "Restart marimo" (the sidebar's button, here its REST call): the same.
    await frames.evaluateAll(all =>
      all.forEach(el => (((el as HTMLIFrameElement).contentWindow as any).__before = 1))
    );
    const restarted = await page.evaluate(async () => {
      const base = JSON.parse(document.getElementById('jupyter-config-data')!.textContent!).baseUrl;
      return (await fetch(`${base}jupyter-marimo-proxy/restart`, { method: 'POST' })).status;
    });
    expect(restarted).toBe(200);
    await expect
      .poll(
        () =>
          frames.evaluateAll(all =>
            all.filter(el => ((el as HTMLIFrameElement).contentWindow as any)?.__before).length
          ),
        { timeout: MARIMO_LOAD_TIMEOUT }
      )
      .toBe(0);
    // A fresh session with the notebook's outputs: the old page could not
    // re-attach to the new marimo before the tab reloaded.
    await expect(notebook.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await expect(notebook.getByText(/Reconnected/)).toHaveCount(0);
    await expect(notebook.getByText(/Unauthorized|Failed to instantiate/)).toHaveCount(0);
    await expect(home.getByText('Create a new notebook').first()).toBeAttached({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    expect(popups()).toEqual([]);
  });

  test('marimo follows JupyterLab’s dark theme without a reload', async ({ page }, testInfo) => {
    await openFromLauncher(page);
    await expectMarimoLoaded(page);
    const iframe = page.locator('#jupyter-marimo-proxy-marimo iframe');
    await iframe.evaluate(el => ((el as HTMLIFrameElement).contentWindow as any).__marker = 1);
    const kind = () =>
      iframe.evaluate(el => (el as HTMLIFrameElement).contentDocument!.body.dataset.vscodeThemeKind);
    // marimo's own theme: `data-theme` and a `dark` class on its body.
    const dark = () =>
      iframe.evaluate(el => {
        const body = (el as HTMLIFrameElement).contentDocument!.body;
        return body.dataset.theme === 'dark' && body.classList.contains('dark');
      });
    expect(await kind()).toBe('vscode-light');

    await page.theme.setDarkTheme();
    await expect.poll(kind).toBe('vscode-dark');
    await expect.poll(dark).toBe(true);
    await snapshot(page, testInfo, 'dark-theme.png');
    // The same page: no reload.
    expect(await iframe.evaluate(el => ((el as HTMLIFrameElement).contentWindow as any).__marker)).toBe(1);

    await page.theme.setLightTheme();
    await expect.poll(kind).toBe('vscode-light');
    await expect.poll(dark).toBe(false);
  });

  test('the Running sidebar lists a marimo notebook and shuts it down', async ({ page }, testInfo) => {
    await page.filebrowser.openHomeDirectory();
    await fileItem(page, 'analysis.marimo.py').dblclick();
    const notebook = await frameOf(visiblePanel(page, 'notebook'));
    await expect(notebook.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });

    await page.sidebar.openTab('jp-running-sessions');
    const running = page.locator('#jp-running-sessions');
    // A section of its own, titled "marimo".
    await expect(
      running.locator('.lm-AccordionPanel-titleLabel', { hasText: /^\s*marimo\s*$/i })
    ).toHaveCount(1);
    const item = running
      .locator('.jp-MarimoProxy-runningNotebook')
      .filter({ hasText: 'analysis.marimo.py' });
    await expect(async () => {
      await running.getByTitle(/^Refresh/i).first().click();
      await expect(item).toHaveCount(1, { timeout: 2_000 });
    }).toPass({ timeout: 60_000 });
    await snapshot(page, testInfo, 'running-panel.png');

    // Its session outlives its tab; a click opens it again.
    await tab(page, 'analysis.marimo.py').locator('.lm-TabBar-tabCloseIcon').click();
    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(0);
    await item.locator('.jp-RunningSessions-itemLabel').click();
    await expect(tab(page, 'analysis.marimo.py')).toHaveCount(1);
    await expect(notebook.getByRole('heading', { name: HEADING })).toBeVisible({
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await tab(page, 'analysis.marimo.py').locator('.lm-TabBar-tabCloseIcon').click();

    // Shut down: marimo ends the session, the list drops it.
    await item.hover();
    await item.locator('.jp-RunningSessions-itemShutdown').click();
    await expect(item).toHaveCount(0, { timeout: 30_000 });
    await running.getByTitle(/^Refresh/i).first().click();
    await expect(item).toHaveCount(0);
  });
});
