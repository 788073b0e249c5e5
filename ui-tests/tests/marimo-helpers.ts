/**
 * Helpers shared by the browser tests: finding the Launcher tile, the marimo
 * tab and its iframe, recognising that marimo's editor has loaded, and
 * keeping the browser console of failed tests.
 *
 * How "marimo's editor loaded" is recognised (marimo 0.25, `marimo edit`
 * on a directory): its React app renders into `#root` a home page with an
 * `<h2>` "Create a new notebook", a "Workspace" file tree and a header with
 * buttons carrying `data-testid="app-config-button"` and
 * `data-testid="shutdown-button"`. Only marimo's own frontend, after it has
 * reached its server, renders these; jupyter-server-proxy's error pages
 * (500 / 502, "could not start") and Jupyter's 404 page do not.
 */
import { expect, IJupyterLabPageFixture, test as base } from '@jupyterlab/galata';
import type { ConsoleMessage, FrameLocator, Locator, TestInfo } from '@playwright/test';

export const WIDGET_ID = 'jupyter-marimo-proxy-marimo';
export const TAB_TITLE = 'marimo';
export const TILE_LABEL = 'marimo';

/** First start of marimo (user venv + server) may take a while on 2 cores. */
export const MARIMO_LOAD_TIMEOUT = 120_000;

/** Text that means the iframe shows an error page instead of marimo. */
export const ERROR_PAGE =
  /\b50[0-4]\s*:|Bad Gateway|Internal Server Error|could not start|failed to start/i;

/** How long an error page may stay in the iframe before we call it final. */
const ERROR_GRACE = 15_000;

/**
 * Attach the browser console (errors and warnings) to every test, and the
 * extension's own messages to failed ones.
 */
export function recordConsole(test: typeof base): void {
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
        .locator('.jp-MarimoProxy-message, .jp-MarimoPackages-error, .jp-MarimoPackages-log')
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
}

/** The Launcher, opening one if the layout has none. */
export async function launcher(page: IJupyterLabPageFixture): Promise<Locator> {
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
export function cardsLabelled(scope: Locator, label: string): Locator {
  return scope.locator('.jp-LauncherCard').filter({
    has: scope.page().locator('.jp-LauncherCard-label', {
      hasText: new RegExp(`^\\s*${label}\\s*$`, 'i')
    })
  });
}

export function marimoTab(page: IJupyterLabPageFixture): Locator {
  return page.getByRole('main').locator(`[role="tab"][data-id="${WIDGET_ID}"]`);
}

export function marimoPanel(page: IJupyterLabPageFixture): Locator {
  return page.locator(`#${WIDGET_ID}`);
}

export function marimoIframe(page: IJupyterLabPageFixture): Locator {
  return marimoPanel(page).locator('iframe');
}

export function marimoFrame(page: IJupyterLabPageFixture): FrameLocator {
  return marimoPanel(page).frameLocator('iframe');
}

/** Jupyter's base_url as the page knows it ("/" by default). */
export async function baseUrl(page: IJupyterLabPageFixture): Promise<string> {
  return page.evaluate(() => {
    const el = document.getElementById('jupyter-config-data');
    const data = el?.textContent ? JSON.parse(el.textContent) : {};
    return (data.baseUrl as string) || '/';
  });
}

/** The "marimo" tab exists, is current, and holds one iframe on <base>marimo/. */
export async function expectMarimoTab(page: IJupyterLabPageFixture): Promise<void> {
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

/** marimo's real frontend has rendered its file home inside the iframe. */
export async function expectMarimoLoaded(page: IJupyterLabPageFixture): Promise<void> {
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

export async function snapshot(
  page: IJupyterLabPageFixture,
  testInfo: TestInfo,
  name: string
): Promise<void> {
  const path = testInfo.outputPath(name);
  await page.screenshot({ path });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Click the Launcher's Marimo tile and wait for the tab. */
export async function openFromLauncher(page: IJupyterLabPageFixture): Promise<void> {
  const tile = cardsLabelled(await launcher(page), TILE_LABEL);
  await expect(tile).toHaveCount(1);
  await tile.click();
  await expect(marimoTab(page)).toHaveCount(1, { timeout: 30_000 });
}

/** A row of the file browser, by its exact name. */
export function fileItem(page: IJupyterLabPageFixture, name: string): Locator {
  return page.locator('.jp-DirListing-item').filter({
    has: page.locator('.jp-DirListing-itemText', {
      hasText: new RegExp(`^\\s*${name.replace(/\./g, '\\.')}\\s*$`)
    })
  });
}

/** Right-click a target (a file browser row) and pick a context menu entry. */
export async function contextMenu(
  page: IJupyterLabPageFixture,
  target: Locator,
  label: string
): Promise<void> {
  await target.click({ button: 'right' });
  const item = page.locator('.lm-Menu-item').filter({
    has: page.locator('.lm-Menu-itemLabel', { hasText: new RegExp(`^${label}$`) })
  });
  await expect(item).toHaveCount(1);
  await item.click();
}

/** A JupyterLab notification (toast) whose text matches. */
export function toast(page: IJupyterLabPageFixture, text: string | RegExp): Locator {
  return page.locator('.Toastify__toast').filter({ hasText: text });
}

/** A main-area tab, by its exact title (or a pattern). */
export function tab(page: IJupyterLabPageFixture, title: string | RegExp): Locator {
  const name = typeof title === 'string' ? new RegExp(`^${title.replace(/[.()]/g, '\\$&')}$`) : title;
  return page
    .getByRole('main')
    .locator('.lm-TabBar-tab')
    .filter({ has: page.locator('.lm-TabBar-tabLabel', { hasText: name }) });
}
