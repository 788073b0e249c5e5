/**
 * Journeys 2 and 3 of DESIGN.md, "Install a package" and "Manage", in a
 * real browser against a real Jupyter, the real installer (uv) and marimo.
 *
 * Packages come only from fixture wheels (jupyter_server_test_config.py
 * builds them with tests/wheels.py and sets `no_index`): `jmp-live` 1.0 is a
 * module `jmp_live` with `VALUE = "jmp-live-1.0"`.
 *
 * The contract tested here:
 * - a left sidebar tab "marimo packages" opens the panel `.jp-MarimoPackages`
 *   showing the venv it acts on (path, Python, installer, marimo);
 * - typing `jmp-live` and clicking Install shows the installer's log, a
 *   success notification with the job's message, and `jmp-live` under the
 *   user's packages;
 * - in the already open marimo tab, a new notebook's cell
 *   `import jmp_live; print(jmp_live.VALUE)` prints `jmp-live-1.0`, without
 *   restarting anything;
 * - Uninstall removes it from the list;
 * - "Restart marimo" says when marimo is ready, and the marimo tab reloads
 *   and shows marimo's editor again;
 * - a slow install (`jmp-slow`) shows its log while it runs, a second
 *   install waits in the queue and can be cancelled there, and Cancel stops
 *   the running one;
 * - a refused spec shows the server's reason and keeps the typed text;
 * - "Repair venv" runs a repair job and says how it went;
 * - the palette has "Install package into marimo venv" and "Restart marimo".
 *
 * marimo 0.25's notebook editor, as found with screenshots: a new notebook
 * (`?file=__new__<name>`) has one cell whose editor is
 * `[data-testid="cell-editor"] .cm-content` (CodeMirror); Ctrl+Enter runs
 * it; printed text lands in the cell's
 * `[data-testid="console-output-area"]`.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  baseUrl,
  expectMarimoLoaded,
  expectMarimoTab,
  MARIMO_LOAD_TIMEOUT,
  marimoFrame,
  marimoIframe,
  openFromLauncher,
  recordConsole,
  snapshot,
  toast
} from './marimo-helpers';

const SIDEBAR_ID = 'jupyter-marimo-proxy-packages';
const PACKAGE = 'jmp-live';
/** Served by a loopback page whose download never finishes in time. */
const SLOW_PACKAGE = 'jmp-slow';

test.use({ autoGoto: true });

recordConsole(test);

/** The sidebar's tab in the left bar. */
function sidebarTab(page: IJupyterLabPageFixture): Locator {
  return page.locator(`.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`);
}

function sidebar(page: IJupyterLabPageFixture): Locator {
  return page.locator(`#${SIDEBAR_ID}.jp-MarimoPackages`);
}

/** Open the sidebar from its tab and wait until it shows the venv. */
async function openSidebar(page: IJupyterLabPageFixture): Promise<Locator> {
  const tab = sidebarTab(page);
  await expect(tab).toHaveCount(1);
  await expect(tab).toHaveAttribute('title', /^marimo packages/);
  if (!(await sidebar(page).isVisible())) {
    await tab.click();
  }
  const panel = sidebar(page);
  await expect(panel).toBeVisible();
  await expect(panel.locator('[data-fact="path"]')).toContainText('venv');
  return panel;
}

function userRow(panel: Locator, name: string): Locator {
  return panel.locator(`.jp-MarimoPackages-user [data-package="${name}"]`);
}

/**
 * Point the marimo tab's iframe at a new, unsaved notebook. marimo's own
 * "Create a new notebook" link opens a browser tab of its own, which is
 * not what a JupyterLab tab can follow.
 */
async function openNewNotebook(page: IJupyterLabPageFixture, name: string): Promise<void> {
  const url = `${await baseUrl(page)}marimo/?file=__new__${name}`;
  await marimoIframe(page).evaluate((iframe, src) => {
    (iframe as HTMLIFrameElement).src = src;
  }, url);
}

/** Type code into the first cell of the notebook in the tab and run it. */
async function runFirstCell(page: IJupyterLabPageFixture, code: string): Promise<Locator> {
  const frame = marimoFrame(page);
  const cell = frame.locator('.marimo-cell').first();
  const editor = cell.getByTestId('cell-editor').locator('.cm-content');
  await expect(editor).toBeVisible({ timeout: MARIMO_LOAD_TIMEOUT });
  await editor.click();
  await page.keyboard.type(code);
  await expect(editor).toHaveText(code);
  await page.keyboard.press('Control+Enter');
  return cell.getByTestId('console-output-area');
}

test.describe('Install package', () => {
  test('install, import in marimo, uninstall, restart', async ({ page }, testInfo) => {
    // The marimo tab is open first: the package must work in it as it is.
    await openFromLauncher(page);
    await expectMarimoTab(page);
    await expectMarimoLoaded(page);

    const panel = await openSidebar(page);
    await expect(panel.locator('[data-fact="installer"]')).toHaveText(/^(uv|pip) \d/);
    await expect(panel.locator('[data-fact="python"]')).toHaveText(/^3\.\d+/);
    await expect(panel.locator('[data-fact="marimo"]')).toHaveText(/^\d+\.\d+/);
    await expect(userRow(panel, PACKAGE)).toHaveCount(0);

    // Install: the log shows the installer at work, then the outcome.
    await panel.locator('.jp-MarimoPackages-specs').fill(PACKAGE);
    await panel.locator('.jp-MarimoPackages-install').click();
    const log = panel.locator('.jp-MarimoPackages-log');
    await expect(log).toBeVisible();
    await expect(log).toContainText(`pip install`);
    await expect(log).toContainText(`${PACKAGE}==1.0`);
    // One message: the job's line in the sidebar (no toast while it is open).
    await expect(panel.locator('.jp-MarimoPackages-jobTitle')).toHaveText(
      `Installed ${PACKAGE} 1.0`
    );
    await expect(toast(page, `Installed ${PACKAGE}`)).toHaveCount(0);
    // The command is folded away under the installer's output.
    await expect(log.locator('.jp-MarimoPackages-command')).not.toHaveAttribute('open', '');
    await expect(userRow(panel, PACKAGE)).toContainText('1.0');
    await expect(panel.locator('.jp-MarimoPackages-specs')).toHaveValue('');
    const monospace = await log.evaluate(el => getComputedStyle(el).fontFamily);
    expect(monospace).toMatch(/mono|courier|menlo|consolas/i);
    await snapshot(page, testInfo, 'installed.png');

    // marimo, already running, imports it at once.
    await openNewNotebook(page, 'jmp_live_check');
    const output = await runFirstCell(page, 'import jmp_live; print(jmp_live.VALUE)');
    await expect(output).toContainText('jmp-live-1.0', { timeout: 60_000 });
    await snapshot(page, testInfo, 'imported-in-marimo.png');

    // Uninstall from the row.
    // Uninstall from the row: it asks first, Cancel focused.
    await userRow(panel, PACKAGE).locator('.jp-MarimoPackages-uninstall').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText(`Uninstall ${PACKAGE} 1.0?`);
    await expect(dialog.locator('button:focus')).toHaveText('Cancel');
    await dialog.locator('.jp-mod-accept').click();
    await expect(panel.locator('.jp-MarimoPackages-jobTitle')).toHaveText(
      `Uninstalled ${PACKAGE} 1.0`
    );
    await expect(userRow(panel, PACKAGE)).toHaveCount(0);
    await expect(log).toContainText(`uninstall`);

    // Restart: the notification says when marimo is ready, the tab reloads.
    // Restart: it asks first, counting marimo's running notebooks.
    await panel.locator('.jp-MarimoPackages-restart').click();
    await expect(dialog).toContainText('Restart marimo?');
    await expect(dialog).toContainText(/This ends 1 running notebook\b/);
    await expect(dialog.locator('button:focus')).toHaveText('Cancel');
    await dialog.locator('.jp-mod-accept').click();
    await expect(panel.locator('.jp-MarimoPackages-restartStatus')).toHaveText(
      /marimo restarted and is ready/,
      { timeout: MARIMO_LOAD_TIMEOUT }
    );
    await expect(page.locator('.Toastify__toast')).toHaveCount(0);
    // The reloaded tab is back on marimo's home (not the notebook opened above).
    await expectMarimoTab(page);
    await expectMarimoLoaded(page);
    await snapshot(page, testInfo, 'after-restart.png');
  });

  test('a slow install streams its log, queues the next job and can be cancelled', async ({
    page
  }) => {
    // jmp-slow's wheel takes minutes to download (jupyter_server_test_config.py).
    const panel = await openSidebar(page);
    const specs = panel.locator('.jp-MarimoPackages-specs');
    const job = panel.locator('.jp-MarimoPackages-job');
    await specs.fill(SLOW_PACKAGE);
    await panel.locator('.jp-MarimoPackages-install').click();

    // The installer's first lines arrive while it still runs.
    await expect(job).toHaveAttribute('data-state', 'running');
    await expect(panel.locator('.jp-MarimoPackages-log')).toContainText(
      `-- ${SLOW_PACKAGE}`
    );
    await expect(job).toHaveAttribute('data-state', 'running');
    await expect(panel.locator('.jp-MarimoPackages-jobTitle')).toHaveText(
      `Installing ${SLOW_PACKAGE}…`
    );

    // A second install waits behind it, and can leave the queue.
    await specs.fill('jmp-bravo');
    await panel.locator('.jp-MarimoPackages-install').click();
    const queued = panel.locator('.jp-MarimoPackages-queue li');
    await expect(queued).toHaveCount(1);
    await expect(queued).toContainText('Install jmp-bravo');
    await queued.locator('.jp-MarimoPackages-cancelQueued').click();
    await expect(queued).toHaveCount(0);

    // Cancel stops the running installer.
    await panel.locator('.jp-MarimoPackages-cancel').click();
    await expect(job).toHaveAttribute('data-state', 'cancelled');
    await expect(panel.locator('.jp-MarimoPackages-cancel')).toBeHidden();
    await expect(panel.locator('.jp-MarimoPackages-jobTitle')).toHaveText(/^Cancelled/);
    await expect(userRow(panel, SLOW_PACKAGE)).toHaveCount(0);
    await expect(userRow(panel, 'jmp-bravo')).toHaveCount(0);
  });

  test('a refused spec shows why and keeps the typed text', async ({ page }) => {
    const panel = await openSidebar(page);
    const typed = 'jmp-alpha\n--index-url=https://example.org/simple';
    await panel.locator('.jp-MarimoPackages-specs').fill(typed);
    await panel.locator('.jp-MarimoPackages-install').click();
    const error = panel.locator('.jp-MarimoPackages-form .jp-MarimoPackages-error');
    await expect(error).toBeVisible();
    await expect(error).toContainText('is an installer option');
    await expect(panel.locator('.jp-MarimoPackages-specs')).toHaveValue(typed);
    // Nothing ran: no job was started.
    await expect(panel.locator('.jp-MarimoPackages-log')).toBeHidden();
  });

  test('Repair venv runs a repair job on a healthy venv', async ({ page }) => {
    const panel = await openSidebar(page);
    await expect(panel.locator('.jp-MarimoPackages-venvWarning')).toHaveCount(0);
    const repair = panel.locator('.jp-MarimoPackages-toolbar .jp-MarimoPackages-repair');
    await expect(repair).toHaveAttribute('aria-label', 'Repair venv');
    await repair.click();
    // Nothing was reinstalled, and the message does not claim it was.
    await expect(panel.locator('.jp-MarimoPackages-jobTitle')).toHaveText(
      /^The venv was healthy(; you have not installed any packages| and has every package you installed .*: nothing was reinstalled)/,
      { timeout: 60_000 }
    );
    await expect(panel.locator('.jp-MarimoPackages-log')).toContainText(
      'The venv itself is healthy.'
    );
    await expect(repair).toBeEnabled();
  });

  test('the panel in light and dark themes', async ({ page }) => {
    const panel = await openSidebar(page);
    await panel.locator('.jp-MarimoPackages-specs').fill('jmp-alpha');
    await panel.locator('.jp-MarimoPackages-install').click();
    await expect(panel.locator('.jp-MarimoPackages-jobTitle')).toHaveText('Installed jmp-alpha 1.0', {
      timeout: 60_000
    });
    // The toolbar reads like JupyterLab's: icon buttons, UI font sizes.
    const sizes = await panel.evaluate(node => {
      const px = (selector: string) =>
        getComputedStyle(node.querySelector(selector)!).fontSize;
      return { filter: px('.jp-MarimoPackages-filter'), body: getComputedStyle(node).fontSize };
    });
    expect(sizes.filter).toBe(sizes.body);
    await expect(panel.locator('.jp-MarimoPackages-toolbar button svg')).toHaveCount(3);
    const shot = async (theme: string, file: string) => {
      await page.evaluate(async name => {
        await window.jupyterapp.commands.execute('apputils:change-theme', { theme: name });
      }, theme);
      await expect(page.locator('body')).toHaveAttribute(
        'data-jp-theme-name',
        theme
      );
      // The README's screenshots are refreshed on request only, so that a test
      // run leaves the working tree as it found it (the state dir's random
      // name in the panel changes every run).
      const path = process.env.UPDATE_DOCS_SCREENSHOTS
        ? `../docs/screenshots/${file}`
        : test.info().outputPath(file);
      await page.locator('#jp-left-stack').screenshot({ path });
    };
    await shot('JupyterLab Light', 'marimo-packages-light.png');
    await shot('JupyterLab Dark', 'marimo-packages-dark.png');
    await shot('JupyterLab Light', 'marimo-packages-light.png');
    await userRow(panel, 'jmp-alpha').locator('.jp-MarimoPackages-uninstall').click();
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(userRow(panel, 'jmp-alpha')).toHaveCount(0);
  });

  test('the palette opens the sidebar and offers Restart marimo', async ({ page }) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('apputils:activate-command-palette');
    });
    const palette = page.locator('#modal-command-palette, .jp-ModalCommandPalette').first();
    const input = palette.locator('.lm-CommandPalette-input');
    const item = (label: string) =>
      palette.locator('.lm-CommandPalette-item').filter({
        has: page.locator('.lm-CommandPalette-itemLabel', {
          hasText: new RegExp(`^\\s*${label}\\s*$`)
        })
      });
    await input.fill('marimo');
    await expect(item('Restart marimo')).toHaveCount(1);
    await expect(item('Install package into marimo venv')).toHaveCount(1);
    await item('Install package into marimo venv').click();
    await expect(sidebar(page)).toBeVisible();
    await expect(sidebarTab(page)).toHaveClass(/\blm-mod-current\b/);
    await expect(sidebar(page).locator('.jp-MarimoPackages-specs')).toBeVisible();
  });
});
