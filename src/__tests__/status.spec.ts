import { ServerConnection } from '@jupyterlab/services';

import {
  classifyStatus,
  fetchStatus,
  MISSING_MESSAGE,
  statusWarnings
} from '../status';
import { healthyStatus, jsonResponse } from './fixtures';

describe('classifyStatus', () => {
  it('accepts a healthy report', () => {
    const body = healthyStatus();
    const check = classifyStatus({ type: 'response', httpStatus: 200, body });
    expect(check.kind).toBe('ok');
    expect(check.status).toBe(body);
    expect(check.warnings).toEqual([]);
    expect(check.httpStatus).toBe(200);
  });

  it('keeps the editor available but warns about an unhealthy venv', () => {
    const body = healthyStatus();
    body.venv.healthy = false;
    body.venv.problems = ['python symlink is broken', 'marimo not importable'];
    const check = classifyStatus({ type: 'response', httpStatus: 200, body });
    expect(check.kind).toBe('ok');
    expect(check.warnings).toHaveLength(1);
    expect(check.warnings[0]).toContain(body.venv.path);
    expect(check.warnings[0]).toContain('python symlink is broken');
    expect(check.warnings[0]).toContain('marimo not importable');
  });

  it('does not warn about a venv that is not created yet', () => {
    const body = healthyStatus();
    body.venv.exists = false;
    body.venv.healthy = false;
    body.venv.problems = ['does not exist'];
    expect(statusWarnings(body)).toEqual([]);
  });

  it('warns when marimo failed to start', () => {
    const body = healthyStatus();
    body.marimo.state = 'failed';
    body.marimo.running = false;
    body.marimo.error = 'port 41234 in use';
    const check = classifyStatus({ type: 'response', httpStatus: 200, body });
    expect(check.kind).toBe('ok');
    expect(check.warnings).toEqual([
      'marimo failed to start: port 41234 in use'
    ]);
  });

  it('reports a missing server extension on 404', () => {
    const check = classifyStatus({
      type: 'response',
      httpStatus: 404,
      body: '<html>404 Not Found</html>'
    });
    expect(check.kind).toBe('missing');
    expect(check.message).toBe(MISSING_MESSAGE);
    expect(check.message).toContain('jupyter-marimo-proxy server extension');
    expect(check.message).toContain('`jupyter server extension list`');
    expect(check.message).toContain('pip install jupyter-marimo-proxy');
    expect(check.status).toBeNull();
  });

  it('reports a failing server extension on 500 with its message', () => {
    const check = classifyStatus({
      type: 'response',
      httpStatus: 500,
      body: 'venv creation failed: disk full'
    });
    expect(check.kind).toBe('failing');
    expect(check.message).toContain('HTTP 500');
    expect(check.detail).toBe('venv creation failed: disk full');
    expect(check.httpStatus).toBe(500);
  });

  it('reports a network error as failing', () => {
    const check = classifyStatus({
      type: 'network-error',
      error: 'Failed to fetch'
    });
    expect(check.kind).toBe('failing');
    expect(check.message).toContain('Could not reach the Jupyter server');
    expect(check.detail).toBe('Failed to fetch');
    expect(check.httpStatus).toBeNull();
  });

  it('treats a 403 as failing and suggests logging in again', () => {
    const check = classifyStatus({
      type: 'response',
      httpStatus: 403,
      body: 'Forbidden'
    });
    expect(check.kind).toBe('failing');
    expect(check.message).toContain('log in again');
  });

  it('rejects a 200 answer that is not a status report', () => {
    const check = classifyStatus({
      type: 'response',
      httpStatus: 200,
      body: '<html><body>Sign in</body></html>'
    });
    expect(check.kind).toBe('failing');
    expect(check.detail).toContain('Sign in');
  });

  it('cuts very long error pages short', () => {
    const check = classifyStatus({
      type: 'response',
      httpStatus: 502,
      body: 'x'.repeat(5000)
    });
    expect(check.detail!.length).toBeLessThan(700);
    expect(check.detail!.endsWith('…')).toBe(true);
  });
});

describe('fetchStatus', () => {
  function settingsWith(fetch: jest.Mock): ServerConnection.ISettings {
    return ServerConnection.makeSettings({
      baseUrl: 'http://localhost/user/alice/',
      fetch
    });
  }

  it('asks the status endpoint under the base URL', async () => {
    const fetch = jest
      .fn()
      .mockResolvedValue(jsonResponse(200, healthyStatus()));
    const check = await fetchStatus(settingsWith(fetch));
    expect(check.kind).toBe('ok');
    expect(check.status?.installer.name).toBe('uv');
    expect(fetch).toHaveBeenCalledTimes(1);
    const request = fetch.mock.calls[0][0] as Request;
    expect(request.url).toMatch(
      /^http:\/\/localhost\/user\/alice\/jupyter-marimo-proxy\/status(\?|$)/
    );
    expect(request.method).toBe('GET');
  });

  it('classifies a 404 as missing', async () => {
    const fetch = jest
      .fn()
      .mockResolvedValue(jsonResponse(404, '<html>Not Found</html>'));
    const check = await fetchStatus(settingsWith(fetch));
    expect(check.kind).toBe('missing');
    expect(check.httpStatus).toBe(404);
  });

  it('passes the JSON message of a 500 on', async () => {
    const fetch = jest
      .fn()
      .mockResolvedValue(
        jsonResponse(500, { message: 'marimo is not installed in the venv' })
      );
    const check = await fetchStatus(settingsWith(fetch));
    expect(check.kind).toBe('failing');
    expect(check.httpStatus).toBe(500);
    expect(check.detail).toBe('marimo is not installed in the venv');
  });

  it('classifies a rejected fetch as failing without throwing', async () => {
    const fetch = jest.fn().mockRejectedValue(new TypeError('Failed to fetch'));
    const check = await fetchStatus(settingsWith(fetch));
    expect(check.kind).toBe('failing');
    expect(check.httpStatus).toBeNull();
    expect(check.detail).toContain('Failed to fetch');
  });
});
