/**
 * Issue 15, "Feedback you can trust", in a real browser against a real
 * Jupyter and marimo: the overwrite dialog's "Save as…" and an exported
 * notebook that opens on the marimo venv's kernel.
 *
 * The contract tested here:
 * - "Convert to marimo" onto an existing `x.marimo.py` asks with Cancel
 *   (focused), "Save as…" and Replace; "Save as…" asks for a name prefilled
 *   with a free one (`analysis-Copy1.marimo.py`, the stem selected), and the
 *   notebook is converted to the name typed while the existing file stays
 *   as it was;
 * - "Export to Jupyter notebook" then "Open" opens the new notebook on
 *   "Python (marimo venv)" with no "Select Kernel" dialog and a tab that is
 *   not marked modified; its kernel runs in the marimo venv;
 *
 * Each test works in the folder Galata gives it (`tmpPath`), so that
 * repeats and other specs see the world as it was.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

import {
  contextMenu,
  fileItem,
  recordConsole,
  snapshot,
  tab,
  toast
} from './marimo-helpers';

const KERNEL_LABEL = 'Python (marimo venv)';
const API = 'jupyter-marimo-proxy';

test.use({ autoGoto: true });

recordConsole(test);

/** Text of a file in the Jupyter root, through the contents API. */
async function readFile(page: IJupyterLabPageFixture, file: string): Promise<string> {
  return page.evaluate(async p => {
    const model = await window.jupyterapp.serviceManager.contents.get(p, {
      content: true,
      format: 'text',
      type: 'file'
    });
    return model.content as string;
  }, file);
}

/** Copy demo files from the root into the test's folder. */
async function copyToFolder(
  page: IJupyterLabPageFixture,
  folder: string,
  names: string[]
): Promise<void> {
  for (const name of names) {
    await page.evaluate(
      async ({ name, folder }) => {
        const contents = window.jupyterapp.serviceManager.contents;
        const model = await contents.get(name, { content: true });
        await contents.save(`${folder}/${name}`, {
          type: model.type,
          format: model.format,
          content: model.content
        });
      },
      { name, folder }
    );
  }
  await page.filebrowser.refresh();
  for (const name of names) {
    await expect(fileItem(page, name)).toHaveCount(1);
  }
}

test.describe('Feedback you can trust', () => {
  test('"Save as…" in the overwrite dialog converts to another name', async ({
    page,
    tmpPath
  }, testInfo) => {
    await copyToFolder(page, tmpPath, ['analysis.ipynb', 'analysis.marimo.py']);
    const existing = await readFile(page, `${tmpPath}/analysis.marimo.py`);

    await contextMenu(page, fileItem(page, 'analysis.ipynb'), 'Convert to marimo');
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Replace analysis.marimo.py?');
    await expect(dialog.locator('.jp-Dialog-footer button')).toHaveText([
      'Cancel',
      'Save as…',
      'Replace'
    ]);
    // The safe choice has the focus.
    await expect(dialog.locator('button:focus')).toHaveText('Cancel');
    await snapshot(page, testInfo, 'overwrite-dialog.png');
    await dialog.getByRole('button', { name: 'Save as…' }).click();

    // JupyterLab's input dialog, prefilled with a free name, its stem selected:
    // typing replaces the stem and keeps the suffix.
    await expect(dialog).toHaveCount(1);
    await expect(dialog).toContainText('Save under another name');
    const input = dialog.locator('input');
    await expect(input).toHaveValue('analysis-Copy1.marimo.py');
    await expect(input).toBeFocused();
    await page.keyboard.type('analysis-v2');
    await expect(input).toHaveValue('analysis-v2.marimo.py');
    await snapshot(page, testInfo, 'save-as-dialog.png');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toHaveCount(0);

    await expect(
      toast(page, 'Converted analysis.ipynb to analysis-v2.marimo.py.')
    ).toBeVisible({ timeout: 60_000 });
    await expect(fileItem(page, 'analysis-v2.marimo.py')).toHaveCount(1);
    const converted = await readFile(page, `${tmpPath}/analysis-v2.marimo.py`);
    expect(converted).toContain('marimo.App');
    expect(converted).toContain('statistics.mean');
    // The file in the way is untouched.
    expect(await readFile(page, `${tmpPath}/analysis.marimo.py`)).toBe(existing);
  });

  test('an exported notebook opens on the marimo venv kernel, no dialog, unmodified', async ({
    page,
    tmpPath
  }, testInfo) => {
    await copyToFolder(page, tmpPath, ['analysis.marimo.py']);
    await contextMenu(page, fileItem(page, 'analysis.marimo.py'), 'Export to Jupyter notebook');
    const done = toast(page, 'Exported analysis.marimo.py to analysis.ipynb.');
    await expect(done).toBeVisible({ timeout: 60_000 });
    await done.getByRole('button', { name: 'Open' }).click();

    const notebookTab = tab(page, 'analysis.ipynb');
    await expect(notebookTab).toHaveCount(1);
    const panel = page.locator('.jp-NotebookPanel:visible');
    await expect(panel).toHaveCount(1);
    // The kernel named in the file starts, and is ready: had JupyterLab not
    // known which kernel to use, it would have asked before starting one.
    await expect(panel.locator('.jp-KernelName')).toHaveText(KERNEL_LABEL, {
      timeout: 60_000
    });
    await expect(panel.locator('.jp-Notebook-ExecutionIndicator')).toHaveAttribute(
      'data-status',
      'idle',
      { timeout: 60_000 }
    );
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);
    await expect(notebookTab).not.toHaveClass(/\bjp-mod-dirty\b/);
    const kernel = await page.evaluate(() => {
      const widget = window.jupyterapp.shell.currentWidget as any;
      return {
        name: widget?.sessionContext?.session?.kernel?.name ?? null,
        dirty: widget?.context?.model?.dirty ?? null
      };
    });
    expect(kernel).toEqual({ name: 'marimo-venv', dirty: false });
    await snapshot(page, testInfo, 'exported-notebook.png');

    // The kernel is the venv's interpreter.
    const prefix = await page.evaluate(async () => {
      const widget = window.jupyterapp.shell.currentWidget as any;
      const future = widget.sessionContext.session.kernel.requestExecute({
        code: 'import sys; print(sys.prefix)'
      });
      let text = '';
      future.onIOPub = (msg: any) => {
        if (msg.header.msg_type === 'stream') {
          text += msg.content.text;
        }
      };
      await future.done;
      return text.trim();
    });
    const status = await page.request.get(`/${API}/status`);
    expect(prefix).toBe((await status.json()).venv.path);
  });
});
