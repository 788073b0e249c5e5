/**
 * Running a notebook shown as an app.
 *
 * marimo's app view here is its editor's `view-as=present` (the server's
 * `notebook-url?mode=app`), and marimo 0.25's editor does not run a
 * notebook when it opens (`runtime.auto_instantiate` defaults to false): an
 * app would show its markdown and none of its outputs. Until the server
 * starts marimo so that it does, the app tab presses marimo's own run
 * button, once, when marimo says cells need running: in the app view the
 * floating "run" button is the only visible one, and it turns yellow
 * ("stale") once the kernel is connected and cells have not run. (Pressed
 * any earlier, before the kernel is ready, it does nothing.) A session
 * that already ran shows no stale button and is left alone; if marimo's
 * page changes and no such button appears, nothing happens and the user
 * can press it.
 */

/** How often to look for the button (ms). */
const POLL = 250;

/**
 * Press marimo's visible run button in `iframe` once it appears; resolves
 * with whether it was pressed within `timeout` ms.
 */
export async function runWhenReady(
  iframe: HTMLIFrameElement,
  timeout = 60000
): Promise<boolean> {
  const deadline = Date.now() + timeout;
  let attached = false;
  while (Date.now() < deadline) {
    // Handed over before the frame is in the page; gone once it left it.
    if (iframe.isConnected) {
      attached = true;
    } else if (attached) {
      return false;
    }
    let doc: Document | null = null;
    try {
      doc = iframe.contentDocument;
    } catch {
      // Another origin: nothing to press.
      return false;
    }
    const button = doc ? visibleRunButton(doc) : null;
    if (button) {
      button.click();
      return true;
    }
    await new Promise(resolve => setTimeout(resolve, POLL));
  }
  return false;
}

/**
 * marimo's run button when it is the only one on screen and says that
 * cells need running (marimo 0.25: its `yellow` variant), else null.
 */
export function visibleRunButton(doc: Document): HTMLButtonElement | null {
  const buttons = Array.from(
    doc.querySelectorAll<HTMLButtonElement>('button[data-testid="run-button"]')
  ).filter(button => button.getClientRects().length > 0);
  // More than one means the editor (a run button per cell): not an app.
  if (buttons.length !== 1) {
    return null;
  }
  const [button] = buttons;
  return !button.disabled && button.classList.contains('yellow')
    ? button
    : null;
}
