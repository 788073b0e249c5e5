/**
 * Journey 1 of DESIGN.md, "Open marimo", in a real browser.
 *
 * What the extension promises (the contract tested here):
 * - the Launcher has exactly one "marimo" tile (marimo's home), in its Notebook section
 *   (jupyter-server-proxy's own tile for marimo is disabled);
 * - the tile opens a main-area tab titled "marimo", widget id
 *   `jupyter-marimo-proxy-marimo`, holding an iframe on `<base_url>marimo/`;
 * - marimo's real editor (its file home) loads in that iframe;
 * - the command palette offers the same action as "Open marimo";
 * - reloading the page restores the tab.
 *
 * How "marimo's editor loaded" is recognised: see marimo-helpers.ts.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  cardsLabelled,
  expectMarimoLoaded,
  expectMarimoTab,
  launcher,
  marimoTab,
  openFromLauncher,
  recordConsole,
  snapshot,
  TILE_LABEL
} from './marimo-helpers';

const PALETTE_LABEL = 'Open marimo';

// Each test starts JupyterLab on a fresh in-memory workspace; marimo itself
// keeps running between tests (one Jupyter server for the whole run).
test.use({ autoGoto: true });

recordConsole(test);

test.describe('Open marimo', () => {
  test('the Launcher has one Marimo tile that opens marimo in a tab', async ({
    page
  }, testInfo) => {
    const scope = await launcher(page);

    // Exactly one tile called "marimo": ours, not jupyter-server-proxy's too.
    const tiles = cardsLabelled(scope, TILE_LABEL);
    await expect(tiles).toHaveCount(1);
    await expect(tiles.locator('.jp-LauncherCard-label')).toHaveText(TILE_LABEL);

    // ... and it sits in the Notebook section.
    const notebookSection = scope.locator('.jp-Launcher-section').filter({
      has: page.locator('.jp-Launcher-sectionTitle', { hasText: /^\s*Notebook\s*$/ })
    });
    await expect(notebookSection).toHaveCount(1);
    await expect(cardsLabelled(notebookSection, TILE_LABEL)).toHaveCount(1);
    await snapshot(page, testInfo, 'launcher.png');

    await tiles.click();
    await expectMarimoTab(page);
    await expectMarimoLoaded(page);
    await snapshot(page, testInfo, 'marimo-tab.png');
  });

  test('reloading the page restores the marimo tab', async ({ page }, testInfo) => {
    await openFromLauncher(page);
    await expectMarimoTab(page);
    await expectMarimoLoaded(page);

    // Galata's default readiness check waits for an active Launcher tab,
    // which a restored layout does not have: wait for the splash only.
    // (Galata's reload takes this option; Playwright's typings do not know it.)
    await page.reload({ waitForIsReady: false } as Parameters<typeof page.reload>[0]);
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });

    await expect(marimoTab(page)).toHaveCount(1, { timeout: 30_000 });
    // The restored tab may not be the current one: bring it forward.
    await marimoTab(page).click();
    await expectMarimoTab(page);
    await expectMarimoLoaded(page);
    await snapshot(page, testInfo, 'marimo-tab-after-reload.png');
  });

  test('the command palette has "Open marimo"', async ({ page }, testInfo) => {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('apputils:activate-command-palette');
    });
    const palette = page.locator('#modal-command-palette, .jp-ModalCommandPalette').first();
    await expect(palette).toBeVisible();
    const input = palette.locator('.lm-CommandPalette-input');
    await input.fill('marimo');

    const items = palette.locator('.lm-CommandPalette-item').filter({
      has: page.locator('.lm-CommandPalette-itemLabel', {
        hasText: new RegExp(`^\\s*${PALETTE_LABEL}\\s*$`)
      })
    });
    await expect(items).toHaveCount(1);
    await snapshot(page, testInfo, 'palette.png');

    await items.click();
    await expectMarimoTab(page);
    await expectMarimoLoaded(page);
  });
});
