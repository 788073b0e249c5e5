import { URLExt } from '@jupyterlab/coreutils';

import { API_NAMESPACE, MARIMO_ROUTE } from './tokens';

/**
 * URL of the marimo editor for a Jupyter base URL.
 *
 * The base URL is used as given (already percent-encoded, as Jupyter hands
 * it out) so that hub user names like `/user/j%C3%BCrgen/` are not encoded
 * twice. The trailing slash matters: marimo's page loads its assets by
 * relative URLs, which only stay under the proxy route when the page URL ends
 * in a slash (and it saves the iframe a redirect).
 */
export function marimoTabUrl(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return `${base}/${MARIMO_ROUTE}/`;
}

/** URL of an endpoint of the server extension's REST API. */
export function apiUrl(baseUrl: string, endpoint = ''): string {
  return URLExt.join(baseUrl, API_NAMESPACE, endpoint);
}
