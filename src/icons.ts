import { LabIcon } from '@jupyterlab/ui-components';

import marimoSvgstr from '../style/icons/marimo.svg';
import marimoUnavailableSvgstr from '../style/icons/marimo-unavailable.svg';
import marimoNotebookSvgstr from '../style/icons/marimo-notebook.svg';
import packageSvgstr from '../style/icons/package.svg';
import restartSvgstr from '../style/icons/restart.svg';

/**
 * The marimo icon, registered under a name so that the settings schema can
 * refer to it (`jupyter.lab.setting-icon`).
 */
export const marimoIcon = new LabIcon({
  name: 'jupyter-marimo-proxy:marimo',
  svgstr: marimoSvgstr
});

/** The marimo icon with a warning badge, for when the server part is broken. */
export const marimoUnavailableIcon = new LabIcon({
  name: 'jupyter-marimo-proxy:marimo-unavailable',
  svgstr: marimoUnavailableSvgstr
});

/**
 * An icon as a `data:` URL. Launcher cards in the Notebook section are
 * kernel cards: they show `kernelIconUrl` and ignore the command's icon.
 */
export function iconDataUrl(icon: LabIcon): string {
  return `data:image/svg+xml,${encodeURIComponent(icon.svgstr)}`;
}

/** A package box with a plus: the "Install package" sidebar's tab icon. */
export const packageInstallIcon = new LabIcon({
  name: 'jupyter-marimo-proxy:package-install',
  svgstr: packageSvgstr
});

/** The marimo icon with a plus: a new marimo notebook (Launcher, File > New). */
export const marimoNotebookIcon = new LabIcon({
  name: 'jupyter-marimo-proxy:marimo-notebook',
  svgstr: marimoNotebookSvgstr
});

/**
 * A circular arrow around a run triangle: restart marimo. Not JupyterLab's
 * refresh (the sidebar's "Refresh" has it) nor its run triangle (which
 * reads as "run a cell").
 */
export const restartIcon = new LabIcon({
  name: 'jupyter-marimo-proxy:restart',
  svgstr: restartSvgstr
});
