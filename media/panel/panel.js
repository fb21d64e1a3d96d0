// The message panel's page: a WebSocket client of the Echo Preview server. The extension says
// where to connect ('target'); this page sends, shows the latest reply large, keeps a log, and
// reconnects when the server comes back. What survives hiding and window reloads (setState) is
// small: previews and sizes, never whole messages, saved at most every SAVE_MS.
(function () {
  'use strict';
  const vscode = acquireVsCodeApi();
  const MAX_LOG = 500;
  const PREVIEW_CHARS = 200;
  const REPLY_CHARS = 4096;
  const SAVE_MS = 400;

  const saved = vscode.getState() || {};
  const state = {
    folderUri: typeof saved.folderUri === 'string' ? saved.folderUri : undefined,
    log: Array.isArray(saved.log) ? saved.log.slice(-MAX_LOG) : [],
    reply: saved.reply && typeof saved.reply.preview === 'string' ? saved.reply : { preview: '', size: 0, cut: false },
    draft: typeof saved.draft === 'string' ? saved.draft.slice(0, REPLY_CHARS) : '',
  };

  const el = {
    badge: document.getElementById('badge'),
    target: document.getElementById('target'),
    form: document.getElementById('form'),
    box: document.getElementById('msgbox'),
    reply: document.getElementById('replytxt'),
    rows: document.querySelector('#log tbody'),
    clear: document.getElementById('clear'),
    open: document.getElementById('open'),
    copy: document.getElementById('copy'),
  };

  let socket;
  let wsUrl;
  let running = false;
  let retryMs = 250;
  let retryTimer;
  let saveTimer;

  /** Coalesces every change within SAVE_MS into one setState (typing, bursts of messages). */
  function save() {
    if (saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      vscode.setState({ folderUri: state.folderUri, log: state.log, reply: state.reply, draft: el.box.value.slice(0, REPLY_CHARS) });
    }, SAVE_MS);
  }

  function setConnection(value, text) {
    el.badge.textContent = text;
    el.badge.dataset.state = value;
    el.form.querySelector('button').disabled = value !== 'open';
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KiB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MiB';
  }

  /** The first `chars` of a text, marked when cut. */
  function preview(text, chars) {
    return text.length > chars ? text.slice(0, chars) + '…' : text;
  }

  function showReply() {
    el.reply.textContent = state.reply.preview + (state.reply.cut ? ' (' + formatSize(state.reply.size) + ' in all)' : '');
  }

  function addRow(entry) {
    const row = document.createElement('tr');
    row.className = entry.direction;
    const cells = [new Date(entry.time).toLocaleTimeString(), entry.direction === 'sent' ? '↑ sent' : '↓ received', formatSize(entry.size), entry.kind, entry.preview];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text; // never innerHTML: messages are data
      row.appendChild(cell);
    }
    el.rows.insertBefore(row, el.rows.firstChild);
    while (el.rows.children.length > MAX_LOG) el.rows.removeChild(el.rows.lastChild);
  }

  /** Logs a message by its size and a preview; returns the entry. */
  function record(direction, data) {
    const binary = typeof data !== 'string';
    const size = binary ? data.byteLength : new TextEncoder().encode(data).length;
    const shown = binary
      ? Array.from(new Uint8Array(data, 0, Math.min(32, size)), (b) => b.toString(16).padStart(2, '0')).join(' ') + (size > 32 ? ' …' : '')
      : preview(data, PREVIEW_CHARS);
    const entry = { time: Date.now(), direction, size, kind: binary ? 'binary' : 'text', preview: shown };
    state.log.push(entry);
    if (state.log.length > MAX_LOG) state.log.splice(0, state.log.length - MAX_LOG);
    addRow(entry);
    save();
    return entry;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (!running || !wsUrl) return;
    setConnection('connecting', 'Connecting…');
    const ws = new WebSocket(wsUrl);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      retryMs = 250;
      setConnection('open', 'Connected');
    };
    ws.onmessage = (event) => {
      const entry = record('received', event.data);
      const text = typeof event.data === 'string' ? preview(event.data, REPLY_CHARS) : '[binary ' + formatSize(entry.size) + ']';
      state.reply = { preview: text, size: entry.size, cut: typeof event.data === 'string' && event.data.length > REPLY_CHARS };
      showReply();
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = undefined;
      if (!running) return;
      setConnection('closed', 'Disconnected (' + event.code + ') — retrying…');
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  function disconnect() {
    clearTimeout(retryTimer);
    const ws = socket;
    socket = undefined;
    if (ws) ws.close(1000, 'panel retargeted');
  }

  function send(text) {
    if (!socket || socket.readyState !== WebSocket.OPEN || !text) return false;
    socket.send(text);
    record('sent', text);
    return true;
  }

  el.form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (send(el.box.value)) el.box.value = '';
    save();
    el.box.focus();
  });
  el.box.addEventListener('input', save);
  el.clear.addEventListener('click', () => {
    state.log = [];
    el.rows.textContent = '';
    save();
  });
  el.open.addEventListener('click', () => vscode.postMessage({ type: 'openInBrowser' }));
  el.copy.addEventListener('click', () => vscode.postMessage({ type: 'copyUrl' }));

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (!message || message.type !== 'target') return;
    state.folderUri = message.folderUri;
    save();
    running = message.running;
    el.open.disabled = el.copy.disabled = !running;
    if (!running) {
      disconnect();
      el.target.textContent = '';
      setConnection('stopped', 'Server stopped');
      return;
    }
    el.target.textContent = message.folder + ' — ' + message.url;
    if (message.wsUrl !== wsUrl || !socket) {
      disconnect();
      wsUrl = message.wsUrl;
      connect();
    }
  });

  // Restore what was there before a hide, a reload or a re-render.
  el.box.value = state.draft;
  showReply();
  for (const entry of state.log) addRow(entry);
  setConnection('connecting', 'Connecting…');
  el.box.focus();
  vscode.postMessage({ type: 'ready', origin: location.origin });
})();
