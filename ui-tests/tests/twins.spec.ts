/**
 * Twin notebooks (#14) in the browser: the file browser marks both files of
 * the demo's pair, and "Compare twin outputs" opens the report in a tab.
 */
import { expect, test } from '@jupyterlab/galata';

import { fileItem } from './marimo-helpers';

test.use({ autoGoto: true });

test('the demo twins carry a badge and compare equal', async ({ page }) => {
  test.setTimeout(180_000);
  await page.filebrowser.openHomeDirectory();
  for (const name of ['analysis.ipynb', 'analysis.marimo.py']) {
    await expect(fileItem(page, name)).toHaveAttribute(
      'data-jmp-twin',
      /in-step|stale|conflict/
    );
  }
  await fileItem(page, 'analysis.marimo.py').click({ button: 'right' });
  await page
    .locator('.lm-Menu-item')
    .filter({
      has: page.locator('.lm-Menu-itemLabel', {
        hasText: /^Compare twin outputs$/
      })
    })
    .click();
  const report = page.locator('.jmp-TwinReport');
  await expect(report).toContainText('check: 1 equivalent', {
    timeout: 150_000
  });
  await expect(
    page.locator('.lm-TabBar-tabLabel', {
      hasText: 'Twin outputs: analysis.marimo.py'
    })
  ).toHaveCount(1);
});
