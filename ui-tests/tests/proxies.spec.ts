/**
 * Issue 16: marimo through proxies that break websockets, in a real browser.
 *
 * jupyter_server_test_config.py starts tests/breaking_proxy.py in front of
 * Jupyter, one port per mode (UI_TESTS_PORT + 1 … + 4). Through each, with our
 * default settings: marimo opens a new notebook, a cell runs and shows its
 * output, a package installed through the sidebar's API (through the same
 * proxy) imports in the open notebook, and (drop_ws) the work goes on across
 * the dropped connection without losing the session or its outputs.
 *
 * The page's script (jupyter_marimo_proxy/connection_shim.js) marks which
 * mechanism carries marimo's connection on <html data-jmp-transport> and
 * window.__jmpConnection.channels; the expectations below are the table of
 * docs/deploy/sagemaker.md.
 */
import { expect, Page, test } from '@playwright/test';

const PORT = Number(process.env.UI_TESTS_PORT ?? '8899');
const MODES: { mode: string; offset: number; transport: string }[] = [
  { mode: 'strip_query', offset: 1, transport: 'websocket' },
  { mode: 'drop_ws', offset: 2, transport: 'tunnel' },
  { mode: 'no_ws', offset: 3, transport: 'tunnel' },
  { mode: 'buffer', offset: 4, transport: 'websocket' }
];

async function runCell(page: Page, index: number, code: string) {
  const cell = page.locator('.marimo-cell').nth(index);
  const editor = cell.getByTestId('cell-editor').locator('.cm-content');
  await expect(editor).toBeVisible({ timeout: 120_000 });
  await editor.click();
  await page.keyboard.type(code);
  await page.keyboard.press('Control+Enter');
  return cell.getByTestId('console-output-area');
}

const TWO_CELLS = [
  'import marimo',
  '',
  'app = marimo.App()',
  '',
  '',
  '@app.cell',
  'def _():',
  '    return',
  '',
  '',
  '@app.cell',
  'def _():',
  '    return',
  '',
  ''
].join('\n');

for (const { mode, offset, transport } of MODES) {
  test(`marimo through a proxy that ${mode}`, async ({ page, request }) => {
    test.setTimeout(240_000);
    const origin = `http://127.0.0.1:${PORT + offset}`;
    // A notebook with two empty cells, written through the proxy (Jupyter's contents API).
    const name = `proxy_${mode}.py`;
    const put = await request.put(`${origin}/api/contents/${name}`, {
      data: { type: 'file', format: 'text', content: TWO_CELLS }
    });
    expect(put.ok()).toBeTruthy();
    await page.goto(`${origin}/marimo/?file=${name}`);
    const output = await runCell(page, 0, `kept = "${mode}-" + str(6 * 7); print(kept)`);
    await expect(output).toContainText(`${mode}-42`, { timeout: 60_000 });

    if (mode === 'drop_ws') {
      // The proxy tears the websocket down after 10 s; the page reconnects over HTTP.
      await expect(page.locator('html')).toHaveAttribute('data-jmp-transport', 'tunnel', {
        timeout: 40_000
      });
      await expect(page.locator('#jmp-transport')).toContainText('event stream');
    }
    await expect(page.locator('html')).toHaveAttribute('data-jmp-transport', transport);

    // Install through the sidebar's API, through the same proxy; import it in the open notebook.
    const queued = await request.post(`${origin}/jupyter-marimo-proxy/packages`, {
      data: { specs: ['jmp-leaf'] }
    });
    expect(queued.status()).toBe(202);
    const deadline = Date.now() + 90_000;
    while (!(await (await request.get(`${origin}/jupyter-marimo-proxy/packages`)).text()).includes('jmp-leaf')) {
      expect(Date.now()).toBeLessThan(deadline);
      await page.waitForTimeout(500);
    }
    const imported = await runCell(page, 1, 'import jmp_leaf; print(kept, jmp_leaf.__name__)');
    await expect(imported).toContainText(`${mode}-42 jmp_leaf`, { timeout: 90_000 });
    // The first cell's output is still there: same session, nothing lost.
    await expect(output).toContainText(`${mode}-42`);
    const channels = await page.evaluate(() => (window as any).__jmpConnection.channels);
    console.log(`[proxies] ${mode}: ${JSON.stringify(channels)}`);
    expect(Object.values(channels)).toContain(transport);
  });
}
