/**
 * Issue 15, "Feedback you can trust": what the user sees when marimo cannot
 * start, in a real browser against a real Jupyter and marimo, with a real
 * fault: a module in the venv's site-packages that shadows uvicorn
 * (marimo's server) and fails to import, as a broken install would.
 * `import marimo` still works, so the venv looks healthy; `marimo edit`
 * exits with code 1.
 *
 * The contract tested here:
 * - "Restart marimo" ends with the reason (marimo's own log one click
 *   away) and no spinning notification;
 * - the Launcher tile, the sidebar and the marimo tab show the failure
 *   (the tile with its badge and "marimo (failed to start)", the sidebar
 *   and the tab with the reason and marimo's log);
 * - "Restart marimo" again, the fault still there, tries again and ends
 *   in the reason again;
 * - once the fault is gone, "Restart marimo" brings marimo back, and the
 *   tile, the sidebar and the tab all show marimo healthy again, without
 *   anyone pressing Refresh.
 *
 * The test undoes its fault in a `finally`, so that repeats and other specs
 * see the world as it was.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import * as fs from 'fs';
import * as path from 'path';

import {
  cardsLabelled,
  expectMarimoLoaded,
  expectMarimoTab,
  launcher,
  MARIMO_LOAD_TIMEOUT,
  marimoPanel,
  marimoTab,
  openFromLauncher,
  recordConsole,
  snapshot,
  TILE_LABEL,
  toast
} from './marimo-helpers';

const SIDEBAR_ID = 'jupyter-marimo-proxy-packages';
const API = 'jupyter-marimo-proxy';

/** What the shadowing module says when marimo's server imports it. */
const FAULT = 'uvicorn is unusable: a broken copy shadows the real one';

test.use({ autoGoto: true });

recordConsole(test);

async function runCommand(page: IJupyterLabPageFixture, id: string): Promise<void> {
  // Not awaited: the command waits for the dialog it opens.
  await page.evaluate(id => {
    void window.jupyterapp.commands.execute(id);
  }, id);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const FAILED_TILE_LABEL = 'marimo (failed to start)';
const REASON = 'marimo exited with code 1 while starting.';

test.describe('A failed start of marimo', () => {
  test('shows its reason in the tile, the sidebar and the tab; restart ends; healthy again after the fix', async ({
    page
  }, testInfo) => {
    await openFromLauncher(page);
    await expectMarimoTab(page);
    await expectMarimoLoaded(page);
    const healthyIcon = await cardsLabelled(await launcher(page), TILE_LABEL)
      .locator('img')
      .getAttribute('src');
    await marimoTab(page).click();

    const venv = (await (await page.request.get(`/${API}/status`)).json()).venv.path as string;
    const lib = path.join(venv, 'lib');
    const python = fs.readdirSync(lib).find(name => name.startsWith('python'))!;
    const shadow = path.join(lib, python, 'site-packages', 'uvicorn.py');
    expect(fs.existsSync(shadow)).toBe(false);
    fs.writeFileSync(shadow, `raise ImportError(${JSON.stringify(FAULT)})\n`);
    const sidebarTab = page.locator(
      `.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`
    );
    const sidebar = page.locator(`#${SIDEBAR_ID}`);
    const dialog = page.locator('.jp-Dialog');
    const notice = marimoPanel(page).locator('.jp-MarimoProxy-notice');
    try {
      // "Restart marimo" from the palette, the sidebar closed: asks, then
      // ends with the reason; no notification keeps spinning.
      await runCommand(page, 'jupyter-marimo-proxy:restart');
      await expect(dialog).toContainText('Restart marimo?');
      await dialog.locator('.jp-mod-accept').click();
      const failed = toast(page, `marimo did not come back after the restart: ${REASON}`);
      await expect(failed).toBeVisible({ timeout: MARIMO_LOAD_TIMEOUT });
      await expect(toast(page, 'Restarting marimo…')).toHaveCount(0);
      await expect(page.locator('.Toastify__spinner')).toHaveCount(0);
      // marimo's own log is one click away.
      await failed.getByRole('button', { name: 'Show log' }).click();
      await expect(dialog).toContainText(FAULT);
      await snapshot(page, testInfo, 'restart-failed-log.png');
      await dialog.locator('.jp-mod-accept, .jp-mod-reject').first().click();
      await expect(dialog).toHaveCount(0);

      // The tab says marimo could not start again, with a way to retry.
      await expect(notice).toContainText(`marimo stopped and could not start again: ${REASON}`);

      // The Launcher tile: the badge and the words, the reason on the tab it opens.
      const failedTile = cardsLabelled(await launcher(page), escapeRegExp(FAILED_TILE_LABEL));
      await expect(failedTile).toHaveCount(1);
      await expect(cardsLabelled(await launcher(page), TILE_LABEL)).toHaveCount(0);
      await expect(failedTile.locator('img')).not.toHaveAttribute('src', healthyIcon!);
      await expect(failedTile).toHaveAttribute('title', FAILED_TILE_LABEL);
      await snapshot(page, testInfo, 'failed-tile.png');

      // The sidebar: the reason, marimo's log, and "Open marimo to retry".
      await sidebarTab.click();
      await expect(sidebar).toBeVisible();
      const restartStatus = sidebar.locator('.jp-MarimoPackages-restartStatus');
      await expect(restartStatus).toHaveText(
        `marimo failed to start: ${REASON.replace(/\.$/, '')}. ` +
          'Fix the cause, then restart or open marimo to retry.'
      );
      await expect(sidebar.locator('.jp-MarimoPackages-restartLog')).toContainText(FAULT);
      await expect(sidebar.locator('.jp-MarimoPackages-openMarimo')).toHaveText(
        'Open marimo to retry'
      );
      await snapshot(page, testInfo, 'failed-sidebar.png');
      // Close the sidebar: notifications are for when it is not on screen.
      await sidebarTab.click();
      await expect(sidebar).toBeHidden();

      // "Restart marimo" again, the fault still there: it tries again and
      // ends in the reason again, nothing spinning. (The first outcome's
      // notification is gone first, so that the one seen is the second's.)
      const again = toast(page, `marimo did not come back after the restart: ${REASON}`);
      await expect(again).toHaveCount(0, { timeout: 60_000 });
      await runCommand(page, 'jupyter-marimo-proxy:restart');
      await expect(dialog).toContainText('Restart marimo?');
      await dialog.locator('.jp-mod-accept').click();
      await expect(again).toBeVisible({ timeout: MARIMO_LOAD_TIMEOUT });
      await expect(toast(page, 'Restarting marimo…')).toHaveCount(0);
      await expect(page.locator('.Toastify__spinner')).toHaveCount(0);

      // The tab, asked to start marimo again, shows marimo's own reason.
      await marimoTab(page).click();
      await notice.getByRole('button', { name: 'Start marimo again' }).click();
      const message = marimoPanel(page).locator('.jp-MarimoProxy-message');
      await expect(message).toContainText('marimo could not start', {
        timeout: MARIMO_LOAD_TIMEOUT
      });
      await expect(message).toContainText(FAULT);
      await snapshot(page, testInfo, 'failed-tab.png');
      // The tile still says so.
      await expect(
        cardsLabelled(await launcher(page), escapeRegExp(FAILED_TILE_LABEL))
      ).toHaveCount(1);
    } finally {
      fs.rmSync(shadow, { force: true });
    }

    // The cause is gone: "Restart marimo" from the sidebar brings marimo
    // back, and the failure leaves the sidebar, the tile and the tab, with
    // no Refresh pressed.
    await sidebarTab.click();
    await expect(sidebar).toBeVisible();
    await sidebar.locator('.jp-MarimoPackages-restart').click();
    await expect(dialog).toContainText('Restart marimo?');
    await dialog.locator('.jp-mod-accept').click();
    const restartStatus = sidebar.locator('.jp-MarimoPackages-restartStatus');
    await expect(restartStatus).toHaveText(/^marimo restarted and is ready/, {
      timeout: MARIMO_LOAD_TIMEOUT
    });
    await expect(restartStatus).toHaveAttribute('data-state', 'ok');
    await expect(sidebar.locator('.jp-MarimoPackages-openMarimo')).toBeHidden();
    await expect(sidebar.locator('.jp-MarimoPackages-restartLogDetails')).toBeHidden();
    await expect(page.locator('.Toastify__spinner')).toHaveCount(0);

    const tile = cardsLabelled(await launcher(page), TILE_LABEL);
    await expect(tile).toHaveCount(1);
    await expect(tile.locator('img')).toHaveAttribute('src', healthyIcon!);
    await expect(
      cardsLabelled(await launcher(page), escapeRegExp(FAILED_TILE_LABEL))
    ).toHaveCount(0);

    // The tab reloaded onto the new marimo by itself.
    await marimoTab(page).click();
    await expectMarimoLoaded(page);
    await expect(marimoPanel(page).locator('.jp-MarimoProxy-notice')).toHaveCount(0);
  });
});
