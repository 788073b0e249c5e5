/* jupyter-marimo-proxy: marimo's websockets through proxies that break them.
 *
 * Added by our route to the head of marimo's pages (connection_shim.py), before
 * marimo's own code. Every websocket the page opens under marimo's route goes:
 *  1. as a real websocket, its query string moved into the path
 *     (<base>/_jmp_q/<query>/ws): a proxy that drops the query of websocket
 *     upgrades cannot break it (launch/query_in_path.py puts it back);
 *  2. else, when the upgrade is refused, or after a websocket was torn down
 *     under the page, over HTTP: an event stream down and POSTs up, which the
 *     launcher turns into the same websocket to marimo (launch/tunnel.py).
 * marimo's code sees a WebSocket either way: kernel, terminal, language server
 * and document sync all follow. Only Jupyter's origin is ever contacted, and
 * nothing here holds a credential: Jupyter's login cookie goes with every
 * request as with marimo's own.
 */
(function () {
  'use strict';
  var BASE = '__JMP_BASE__';
  var NativeWebSocket = window.WebSocket;
  if (!NativeWebSocket || NativeWebSocket.__jmpShim) {
    return;
  }
  var state = { transport: 'websocket', why: '', channels: {} };
  window.__jmpConnection = state;

  function b64url(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  function fromBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function channelOf(url) {
    return url.pathname.slice(BASE.length - 1);
  }

  function showTransport() {
    document.documentElement.setAttribute('data-jmp-transport', state.transport);
    try {
      window.parent.postMessage(
        { source: 'jupyter-marimo-proxy', type: 'transport', transport: state.transport, why: state.why },
        location.origin
      );
    } catch (e) {
      /* no parent */
    }
    if (state.transport === 'websocket' || !document.body) {
      return;
    }
    var badge = document.getElementById('jmp-transport');
    if (!badge) {
      badge = document.createElement('div');
      badge.id = 'jmp-transport';
      badge.setAttribute('role', 'status');
      badge.style.cssText =
        'position:fixed;bottom:2px;left:50%;transform:translateX(-50%);z-index:2147483647;' +
        'font:11px system-ui,sans-serif;padding:1px 8px;border-radius:8px;opacity:.75;' +
        'background:#fff3cd;color:#533f03;border:1px solid #e0c97a;pointer-events:none';
      document.body.appendChild(badge);
    }
    badge.textContent = 'connection: HTTP event stream (' + state.why + ')';
    badge.title =
      'A proxy in front of Jupyter breaks websockets; marimo talks to its server ' +
      'over an event stream and POSTs through Jupyter instead.';
  }

  function useTunnel(why) {
    if (state.transport !== 'tunnel') {
      state.transport = 'tunnel';
      state.why = why;
      if (document.body) {
        showTransport();
      } else {
        document.addEventListener('DOMContentLoaded', showTransport);
      }
    }
  }

  function ShimSocket(url, protocols) {
    var target = new URL(url, location.href);
    if (target.protocol === 'http:' || target.protocol === 'https:') {
      target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    }
    var ours = target.host === location.host && target.pathname.indexOf(BASE) === 0;
    if (!ours) {
      return protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
    }
    var self = Reflect.construct(EventTarget, [], ShimSocket);
    self._target = target;
    self._protocols = protocols;
    self._url = target.href;
    self._readyState = 0;
    self._binaryType = 'blob';
    self._protocol = '';
    self._queue = [];
    self._sending = false;
    self._closedByPage = false;
    self._closeFired = false;
    self.onopen = self.onmessage = self.onclose = self.onerror = null;
    if (state.transport === 'tunnel') {
      self._tunnel();
    } else {
      self._native();
    }
    return self;
  }
  ShimSocket.prototype = Object.create(EventTarget.prototype);
  ShimSocket.prototype.constructor = ShimSocket;
  ShimSocket.__jmpShim = true;
  ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (name, value) {
    ShimSocket[name] = value;
    ShimSocket.prototype[name] = value;
  });
  Object.defineProperties(ShimSocket.prototype, {
    url: { get: function () { return this._url; } },
    readyState: { get: function () { return this._readyState; } },
    protocol: { get: function () { return this._protocol; } },
    extensions: { get: function () { return ''; } },
    bufferedAmount: { get: function () { return this._ws ? this._ws.bufferedAmount : 0; } },
    binaryType: {
      get: function () { return this._binaryType; },
      set: function (value) {
        this._binaryType = value;
        if (this._ws) {
          this._ws.binaryType = value;
        }
      }
    }
  });

  ShimSocket.prototype._fire = function (type, init) {
    var ev =
      type === 'message' ? new MessageEvent('message', init) :
      type === 'close' ? new CloseEvent('close', init) : new Event(type);
    var handler = this['on' + type];
    if (typeof handler === 'function') {
      try {
        handler.call(this, ev);
      } catch (e) {
        setTimeout(function () { throw e; });
      }
    }
    this.dispatchEvent(ev);
  };

  ShimSocket.prototype._opened = function (via) {
    if (this._closedByPage) {
      return;
    }
    this._via = via;
    state.channels[channelOf(this._target)] = via;
    this._readyState = 1;
    this._fire('open');
  };

  ShimSocket.prototype._closed = function (code, reason, wasClean) {
    if (this._closeFired) {
      return;
    }
    this._closeFired = true;
    this._readyState = 3;
    if (!wasClean) {
      this._fire('error');
    }
    this._fire('close', { code: code, reason: reason || '', wasClean: !!wasClean });
  };

  ShimSocket.prototype._native = function () {
    var self = this;
    var url = new URL(this._target.href);
    if (url.search) {
      url.pathname = BASE + '_jmp_q/' + b64url(url.search.slice(1)) + '/' + url.pathname.slice(BASE.length);
      url.search = '';
    }
    var ws = this._protocols === undefined ? new NativeWebSocket(url.href) : new NativeWebSocket(url.href, this._protocols);
    ws.binaryType = this._binaryType;
    this._ws = ws;
    var opened = false;
    ws.onopen = function () {
      opened = true;
      self._protocol = ws.protocol;
      self._opened('websocket');
    };
    ws.onmessage = function (e) {
      self._fire('message', { data: e.data, origin: location.origin });
    };
    ws.onerror = function () {};
    ws.onclose = function (e) {
      if (self._closedByPage) {
        self._closed(e.code, e.reason, e.wasClean);
        return;
      }
      if (!opened) {
        // Refused upgrade (or marimo not there): try the same over HTTP; if that opens, keep it.
        self._ws = null;
        self._tunnel('websockets refused');
        return;
      }
      if (e.code === 1006 || e.code === 1001) {
        // Torn down under the page: the page's next websockets go over HTTP.
        useTunnel('websockets dropped');
      }
      self._closed(e.code, e.reason, e.wasClean);
    };
  };

  ShimSocket.prototype._tunnel = function (fallbackWhy) {
    var self = this;
    var target = this._target.pathname + this._target.search;
    var controller = new AbortController();
    this._controller = controller;
    fetch(BASE + '_jmp_tunnel/open/' + b64url(target), {
      headers: { Accept: 'text/event-stream' },
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal
    })
      .then(function (response) {
        if (!response.ok || !response.body) {
          throw new Error('tunnel: ' + response.status);
        }
        return self._read(response.body.getReader(), fallbackWhy);
      })
      .then(
        function (closing) {
          self._closed(closing ? closing.code : 1006, closing ? closing.reason : '', !!closing);
        },
        function () {
          self._closed(1006, '', false);
        }
      );
  };

  ShimSocket.prototype._read = function (reader, fallbackWhy) {
    var self = this;
    var decoder = new TextDecoder();
    var buffer = '';
    var name = null;
    var data = [];
    function dispatch() {
      var text = data.join('\n');
      var kind = name;
      name = null;
      data = [];
      if (!text) {
        return null;
      }
      var message = JSON.parse(text);
      if (kind === 'open') {
        self._id = message.id;
        if (fallbackWhy) {
          useTunnel(fallbackWhy);
        }
        self._opened('tunnel');
        self._pump();
        return null;
      }
      if (kind === 'close') {
        return message;
      }
      var payload;
      if (message.t !== undefined) {
        payload = message.t;
      } else {
        payload = fromBase64(message.b);
        if (self._binaryType === 'blob') {
          payload = new Blob([payload]);
        }
      }
      self._fire('message', { data: payload, origin: location.origin });
      return null;
    }
    function step() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          return null;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        var end;
        while ((end = buffer.indexOf('\n')) >= 0) {
          var line = buffer.slice(0, end).replace(/\r$/, '');
          buffer = buffer.slice(end + 1);
          if (line === '') {
            var closing = dispatch();
            if (closing) {
              return closing;
            }
          } else if (line.charAt(0) !== ':') {
            var colon = line.indexOf(':');
            var field = colon < 0 ? line : line.slice(0, colon);
            var value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') {
              data.push(value);
            } else if (field === 'event') {
              name = value;
            }
          }
        }
        return step();
      });
    }
    return step();
  };

  ShimSocket.prototype._pump = function () {
    var self = this;
    if (this._sending || !this._id || this._queue.length === 0) {
      return;
    }
    this._sending = true;
    var batch = this._queue.splice(0, this._queue.length);
    Promise.all(
      batch.map(function (item) {
        if (typeof item === 'string') {
          return { t: item };
        }
        var buffer = item instanceof Blob ? item.arrayBuffer() : Promise.resolve(ArrayBuffer.isView(item) ? item.slice().buffer : item);
        return Promise.resolve(buffer).then(function (b) { return { b: toBase64(b) }; });
      })
    )
      .then(function (messages) {
        return fetch(BASE + '_jmp_tunnel/send/' + self._id, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          credentials: 'same-origin',
          body: JSON.stringify(messages)
        });
      })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('tunnel send: ' + response.status);
        }
        self._sending = false;
        self._pump();
      })
      .catch(function () {
        self._sending = false;
        if (self._controller) {
          self._controller.abort();
        }
      });
  };

  ShimSocket.prototype.send = function (data) {
    if (this._readyState === 0) {
      throw new DOMException('WebSocket is still connecting', 'InvalidStateError');
    }
    if (this._readyState !== 1) {
      return;
    }
    if (this._ws) {
      this._ws.send(data);
      return;
    }
    this._queue.push(data);
    this._pump();
  };

  ShimSocket.prototype.close = function (code, reason) {
    if (this._closedByPage || this._readyState === 3) {
      return;
    }
    this._closedByPage = true;
    this._readyState = 2;
    if (this._ws) {
      this._ws.close(code, reason);
      return;
    }
    var self = this;
    if (this._id) {
      fetch(BASE + '_jmp_tunnel/close/' + this._id, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ code: code || 1000, reason: reason || '' })
      }).catch(function () {});
    }
    if (this._controller) {
      this._controller.abort();
    }
    setTimeout(function () {
      self._closed(code || 1000, reason || '', true);
    });
  };

  window.WebSocket = ShimSocket;
  if (document.body) {
    showTransport();
  } else {
    document.addEventListener('DOMContentLoaded', showTransport);
  }
})();
