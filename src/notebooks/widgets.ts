/**
 * marimo notebooks as JupyterLab documents, and notebooks run as apps.
 *
 * - The `marimo` file type recognises `*.marimo.py` by name; the `marimo`
 *   widget factory is its default, so a double-click in the file browser
 *   opens marimo's editor on the file in a tab of its own (ordinary `.py`
 *   files keep opening in the editor). The document manager tracks and
 *   restores these tabs like any document.
 * - An app tab shows a notebook in marimo's app view. It is not a document
 *   tab: a document tab's title is its file name (editing the title renames
 *   the file), while an app tab is titled "▶ analysis".
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import {
  ABCWidgetFactory,
  DocumentRegistry,
  DocumentWidget,
  IDocumentWidget,
  TextModelFactory
} from '@jupyterlab/docregistry';

import { marimoIcon } from '../icons';
import { addMarimoToolbar, MarimoPanel } from '../panel';
import { IStatusCheck } from '../tokens';
import { NotebooksAPI } from './api';
import {
  appTabTitle,
  basename,
  MARIMO_FILE_PATTERN,
  MARIMO_SUFFIX
} from './paths';

/** Name of the file type, the widget factory ("Open With") and the model. */
export const MARIMO_FILE_TYPE = 'marimo';
export const MARIMO_FACTORY = 'marimo';
export const MARIMO_MODEL = 'marimo-file';

/** The document registry's file type for marimo notebooks. */
export function marimoFileType(): Partial<DocumentRegistry.IFileType> {
  return {
    name: MARIMO_FILE_TYPE,
    displayName: 'marimo notebook',
    // The pattern is matched before extensions, so it wins over `.py`.
    pattern: MARIMO_FILE_PATTERN,
    extensions: [MARIMO_SUFFIX],
    // Editors still highlight it as Python ("Open With > Editor").
    mimeTypes: ['text/x-python'],
    contentType: 'file',
    fileFormat: 'text',
    icon: marimoIcon
  };
}

/**
 * The model behind a marimo tab. marimo reads and writes the file itself;
 * the tab holds the text JupyterLab loaded only because every document has
 * a model. A model factory of its own keeps that model apart from an editor
 * open on the same file (models are shared per path and factory), so that
 * making it read-only below does not lock the editor.
 */
export class MarimoModelFactory extends TextModelFactory {
  constructor() {
    super(false);
  }

  get name(): string {
    return MARIMO_MODEL;
  }
}

export type MarimoDocument = IDocumentWidget<MarimoPanel>;

export class MarimoDocumentFactory extends ABCWidgetFactory<
  MarimoDocument,
  DocumentRegistry.ICodeModel
> {
  constructor(options: MarimoDocumentFactory.IOptions) {
    super({
      name: MARIMO_FACTORY,
      label: 'marimo',
      fileTypes: [MARIMO_FILE_TYPE],
      defaultFor: [MARIMO_FILE_TYPE],
      modelName: MARIMO_MODEL,
      preferKernel: false,
      canStartKernel: false,
      readOnly: true
    });
    this._api = options.api;
    this._checkStatus = options.checkStatus;
  }

  protected createNewWidget(
    context: DocumentRegistry.IContext<DocumentRegistry.ICodeModel>
  ): MarimoDocument {
    // Saving this tab's stale copy would overwrite what marimo saved: a
    // read-only model makes Ctrl+S say so instead ("Save All" skips it).
    context.model.readOnly = true;
    const content = new MarimoPanel({
      locate: () => this._api.notebookUrl(context.localPath, 'edit'),
      checkStatus: this._checkStatus,
      frameTitle: `marimo editor: ${basename(context.localPath)}`,
      locateFailedTitle: `marimo cannot open ${basename(context.localPath)}`
    });
    const widget = new DocumentWidget({ content, context });
    widget.addClass('jp-MarimoProxy-tab');
    widget.addClass('jp-MarimoProxy-notebookTab');
    widget.title.icon = marimoIcon;
    addMarimoToolbar(widget);
    // A rename in the file browser: marimo must open the file by its new
    // name. (Connected with the widget as receiver: disposing it
    // disconnects.)
    context.pathChanged.connect(() => void content.refresh(), widget);
    return widget;
  }

  private _api: NotebooksAPI;
  private _checkStatus?: () => Promise<IStatusCheck>;
}

export namespace MarimoDocumentFactory {
  export interface IOptions {
    api: NotebooksAPI;
    /** Status check for the panels; defaults to a request to the server. */
    checkStatus?: () => Promise<IStatusCheck>;
  }
}

/** A notebook shown in marimo's app view (code hidden, outputs live). */
export class MarimoAppTab extends MainAreaWidget<MarimoPanel> {
  constructor(options: MarimoAppTab.IOptions) {
    const content = new MarimoPanel({
      url: options.url,
      locate: options.url
        ? undefined
        : () => options.api.notebookUrl(options.path, 'app'),
      checkStatus: options.checkStatus,
      frameTitle: `marimo app: ${basename(options.path)}`,
      locateFailedTitle: `marimo cannot run ${basename(options.path)}`
    });
    super({ content });
    this.path = options.path;
    this.id = `jupyter-marimo-proxy-app-${++Private.appId}`;
    this.addClass('jp-MarimoProxy-tab');
    this.addClass('jp-MarimoProxy-appTab');
    this.title.label = appTabTitle(options.path);
    this.title.caption = `${options.path} as an app`;
    this.title.icon = marimoIcon;
    this.title.closable = true;
    addMarimoToolbar(this);
  }

  /** The notebook's contents path. */
  readonly path: string;
}

export namespace MarimoAppTab {
  export interface IOptions {
    path: string;
    api: NotebooksAPI;
    /**
     * The app URL when already known (the command asked the server first);
     * otherwise the tab asks (tab restore).
     */
    url?: string;
    checkStatus?: () => Promise<IStatusCheck>;
  }
}

namespace Private {
  export let appId = 0;
}
