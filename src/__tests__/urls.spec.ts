import { apiUrl, marimoTabUrl } from '../urls';

describe('marimoTabUrl', () => {
  it.each([
    ['/', '/marimo/'],
    ['/user/alice/', '/user/alice/marimo/'],
    ['/user/alice', '/user/alice/marimo/'],
    ['/user/alice//', '/user/alice/marimo/'],
    ['http://localhost:8888/', 'http://localhost:8888/marimo/'],
    [
      'https://hub.example.org/user/alice/',
      'https://hub.example.org/user/alice/marimo/'
    ]
  ])('builds the editor URL for base %s', (base, expected) => {
    expect(marimoTabUrl(base)).toBe(expected);
  });

  it('keeps an already encoded user name as it is', () => {
    expect(marimoTabUrl('/user/j%C3%BCrgen/')).toBe(
      '/user/j%C3%BCrgen/marimo/'
    );
    expect(marimoTabUrl('/user/a%40b.org')).toBe('/user/a%40b.org/marimo/');
  });

  it('always ends with a slash', () => {
    for (const base of ['/', '/a', '/a/', 'http://h/a']) {
      expect(marimoTabUrl(base).endsWith('/marimo/')).toBe(true);
    }
  });
});

describe('apiUrl', () => {
  it.each([
    ['/', '/jupyter-marimo-proxy/status'],
    ['/user/alice/', '/user/alice/jupyter-marimo-proxy/status'],
    ['/user/alice', '/user/alice/jupyter-marimo-proxy/status'],
    [
      'http://localhost:8888/user/j%C3%BCrgen/',
      'http://localhost:8888/user/j%C3%BCrgen/jupyter-marimo-proxy/status'
    ]
  ])('joins base %s with the status endpoint', (base, expected) => {
    expect(apiUrl(base, 'status')).toBe(expected);
  });

  it('gives the namespace root without an endpoint', () => {
    expect(apiUrl('/user/alice/')).toBe('/user/alice/jupyter-marimo-proxy');
  });
});
