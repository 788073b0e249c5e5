/**
 * Journey 1 of DESIGN.md, "Open marimo", in a real browser.
 *
 * What the extension promises (the contract tested here):
 * - the Launcher has exactly one "Marimo" tile, in its Notebook section
 *   (jupyter-server-proxy's own tile for marimo is disabled);
 * - the tile opens a main-area tab titled "marimo", widget id
 *   `jupyter-marimo-proxy-marimo`, holding an iframe on `<base_url>marimo/`;
 * - marimo's real editor (its file home) loads in that iframe;
 * - the command palette offers the same action as "Open marimo";
 * - reloading the page restores the tab.
 *
 * How "marimo's editor loaded" is recognised (marimo 0.25, `marimo edit`
 * on a directory): its React app renders into `#root` a home page with an
 * `<h2>` "Create a new notebook", a "Workspace" file tree and a header with
 * buttons carrying `data-testid="app-config-button"` and
 * `data-testid="shutdown-button"`. Only marimo's own frontend, after it has
 * reached its server, renders these; jupyter-server-proxy's error pages
 * (500 / 502, "could not start") and Jupyter's 404 page do not.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { ConsoleMessage, FrameLocator, Locator, TestInfo } from '@playwright/test';

const WIDGET_ID = 'jupyter-marimo-proxy-marimo';
const TAB_TITLE = 'marimo';
const TILE_LABEL = 'Marimo';
const PALETTE_LABEL = 'Open marimo';

/** First start of marimo (user venv + server) may take a while on 2 cores. */
const MARIMO_LOAD_TIMEOUT = 120_000;

/** Text that means the iframe shows an error page instead of marimo. */
const ERROR_PAGE =
  /\b50[0-4]\s*:|Bad Gateway|Internal Server Error|could not start|failed to start/i;

// Each test starts JupyterLab on a fresh in-memory workspace; marimo itself
// keeps running between tests (one Jupyter server for the whole run).
test.use({ autoGoto: true });

const consoleLog: string[] = [];

test.beforeEach(async ({ page }) => {
  consoleLog.length = 0;
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      consoleLog.push(`[${msg.type()}] ${msg.text()}`);
    }
  });
  page.on('pageerror', err => consoleLog.push(`[pageerror] ${err.message}`));
});

test.afterEach(async ({ page }, testInfo) => {
  if (consoleLog.length) {
    await testInfo.attach('browser-console.txt', {
      body: consoleLog.join('\n'),
      contentType: 'text/plain'
    });
  }
  if (testInfo.status !== testInfo.expectedStatus) {
    // Humans debugging a failure want the extension's own message, if any.
    const messages = await page
      .locator('.jp-MarimoProxy-message')
      .allInnerTexts()
      .catch(() => [] as string[]);
    if (messages.length) {
      await testInfo.attach('marimo-proxy-messages.txt', {
        body: messages.join('\n---\n'),
        contentType: 'text/plain'
      });
    }
    if (consoleLog.length) {
      console.log(`Browser console (${testInfo.title}):\n${consoleLog.join('\n')}`);
    }
  }
});

/** The Launcher, opening one if the layout has none. */
async function launcher(page: IJupyterLabPageFixture): Promise<Locator> {
  const main = page.locator('#jp-main-dock-panel');
  const existing = main.locator('.jp-Launcher');
  if (!(await existing.first().isVisible())) {
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('launcher:create');
    });
  }
  const visible = main.locator('.jp-Launcher:visible').first();
  await expect(visible).toBeVisible();
  return visible;
}

/** Launcher cards whose label is exactly `label` (case-insensitive). */
function cardsLabelled(scope: Locator, label: string): Locator {
  return scope.locator('.jp-LauncherCard').filter({
    has: scope.page().locator('.jp-LauncherCard-label', {
      hasText: new RegExp(`^\\s*${label}\\s*$`, 'i')
    })
  });
}

function marimoTab(page: IJupyterLabPageFixture): Locator {
  return page.getByRole('main').locator(`[role="tab"][data-id="${WIDGET_ID}"]`);
}

function marimoPanel(page: IJupyterLabPageFixture): Locator {
  return page.locator(`#${WIDGET_ID}`);
}

function marimoIframe(page: IJupyterLabPageFixture): Locator {
  return marimoPanel(page).locator('iframe');
}

function marimoFrame(page: IJupyterLabPageFixture): FrameLocator {
  return marimoPanel(page).frameLocator('iframe');
}

/** Jupyter's base_url as the page knows it ("/" by default). */
async function baseUrl(page: IJupyterLabPageFixture): Promise<string> {
  return page.evaluate(() => {
    const el = document.getElementById('jupyter-config-data');
    const data = el?.textContent ? JSON.parse(el.textContent) : {};
    return (data.baseUrl as string) || '/';
  });
}

/** The "marimo" tab exists, is current, and holds one iframe on <base>marimo/. */
async function expectMarimoTab(page: IJupyterLabPageFixture): Promise<void> {
  const tab = marimoTab(page);
  await expect(tab).toHaveCount(1);
  await expect(tab).toHaveText(new RegExp(`^\\s*${TAB_TITLE}\\s*$`));
  await expect(tab).toHaveClass(/\bjp-mod-current\b|\blm-mod-current\b/);
  await expect(marimoPanel(page)).toBeVisible();

  const iframe = marimoIframe(page);
  await expect(iframe).toHaveCount(1);
  await expect(iframe).toBeVisible();
  const src = await iframe.getAttribute('src');
  expect(src, 'iframe src').toBeTruthy();
  const expected = `${await baseUrl(page)}marimo/`;
  expect(new URL(src!, page.url()).pathname, `iframe src ${src}`).toBe(expected);
}

/** How long an error page may stay in the iframe before we call it final. */
const ERROR_GRACE = 15_000;

/** marimo's real frontend has rendered its file home inside the iframe. */
async function expectMarimoLoaded(page: IJupyterLabPageFixture): Promise<void> {
  const frame = marimoFrame(page);
  const heading = frame.getByRole('heading', { name: 'Create a new notebook' });
  const bodyText = () =>
    frame
      .locator('body')
      .innerText({ timeout: 2_000 })
      .catch(() => '<iframe body unreadable>');

  // Wait for marimo's home, but give up early on an error page that stays:
  // waiting the full timeout on a "500 : Internal Server Error" helps nobody.
  const deadline = Date.now() + MARIMO_LOAD_TIMEOUT;
  let errorSince: number | null = null;
  let failure: string | null = null;
  while (!(await heading.isVisible())) {
    const body = await bodyText();
    if (ERROR_PAGE.test(body)) {
      errorSince ??= Date.now();
      if (Date.now() - errorSince > ERROR_GRACE) {
        failure = `the iframe shows an error page`;
        break;
      }
    } else {
      errorSince = null;
    }
    if (Date.now() > deadline) {
      failure = `timed out after ${MARIMO_LOAD_TIMEOUT / 1000}s`;
      break;
    }
    await page.waitForTimeout(500);
  }
  if (failure) {
    const body = await bodyText();
    const message = await page
      .locator('.jp-MarimoProxy-message')
      .allInnerTexts()
      .catch(() => [] as string[]);
    throw new Error(
      `marimo's home page did not appear in the iframe (${failure}).\n` +
        `iframe src: ${await marimoIframe(page).getAttribute('src')}\n` +
        `iframe body: ${body.slice(0, 1000)}\n` +
        `extension message(s): ${message.join(' | ') || '<none>'}`
    );
  }
  await expect(frame.locator('#root')).toBeVisible();
  await expect(frame.getByTestId('app-config-button')).toBeVisible();
  await expect(frame.getByText('Workspace', { exact: true })).toBeVisible();
  const body = await frame.locator('body').innerText();
  expect(body).not.toMatch(ERROR_PAGE);

  // The extension may keep a status line; if one is shown it must not be an error.
  for (const text of await page.locator('.jp-MarimoProxy-message:visible').allInnerTexts()) {
    expect(text, 'extension message while marimo is loaded').not.toMatch(
      /error|fail|could not|missing|not installed/i
    );
  }
}

async function snapshot(page: IJupyterLabPageFixture, testInfo: TestInfo, name: string) {
  const path = testInfo.outputPath(name);
  await page.screenshot({ path });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

async function openFromLauncher(page: IJupyterLabPageFixture): Promise<void> {
  const tile = cardsLabelled(await launcher(page), TILE_LABEL);
  await expect(tile).toHaveCount(1);
  await tile.click();
  await expect(marimoTab(page)).toHaveCount(1, { timeout: 30_000 });
}

test.describe('Open marimo', () => {
  test('the Launcher has one Marimo tile that opens marimo in a tab', async ({
    page
  }, testInfo) => {
    const scope = await launcher(page);

    // Exactly one tile called "Marimo": ours, not jupyter-server-proxy's too.
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
    await page.reload({ waitForIsReady: false });
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
