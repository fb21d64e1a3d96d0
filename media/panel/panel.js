// The message panel's page: a WebSocket client of the Echo Preview server. The extension says
// where to connect ('target'); this page sends, shows the latest reply large, keeps a log, and
// reconnects when the server comes back. State survives hiding and window reloads (setState).
(function () {
  'use strict';
  const vscode = acquireVsCodeApi();
  const MAX_LOG = 500;
  const PREVIEW_CHARS = 200;

  const saved = vscode.getState() || {};
  const state = {
    folderUri: saved.folderUri,
    log: Array.isArray(saved.log) ? saved.log : [],
    lastReply: saved.lastReply || '',
    draft: saved.draft || '',
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
  let counts = { sent: 0, received: 0 };
  let connection = 'connecting';

  function save() {
    vscode.setState({ folderUri: state.folderUri, log: state.log, lastReply: state.lastReply, draft: el.box.value });
  }

  function report() {
    vscode.postMessage({ type: 'status', status: { connection, lastReply: state.lastReply, sent: counts.sent, received: counts.received } });
  }

  function setConnection(value, text) {
    connection = value;
    el.badge.textContent = text;
    el.badge.dataset.state = value;
    el.form.querySelector('button').disabled = value !== 'open';
    report();
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KiB';
    return (bytes / (1024 * 1024)).toFixed(1) + ' MiB';
  }

  function addRow(entry) {
    const row = document.createElement('tr');
    row.className = entry.direction;
    const cells = [
      new Date(entry.time).toLocaleTimeString(),
      entry.direction === 'sent' ? '↑ sent' : '↓ received',
      formatSize(entry.size),
      entry.kind,
      entry.preview,
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text; // never innerHTML: messages are data
      row.appendChild(cell);
    }
    el.rows.insertBefore(row, el.rows.firstChild);
    while (el.rows.children.length > MAX_LOG) el.rows.removeChild(el.rows.lastChild);
  }

  function record(direction, data) {
    const binary = typeof data !== 'string';
    const size = binary ? data.byteLength : new TextEncoder().encode(data).length;
    const preview = binary
      ? Array.from(new Uint8Array(data.slice(0, 32)), (b) => b.toString(16).padStart(2, '0')).join(' ') + (size > 32 ? ' …' : '')
      : data.length > PREVIEW_CHARS ? data.slice(0, PREVIEW_CHARS) + '…' : data;
    const entry = { time: Date.now(), direction, size, kind: binary ? 'binary' : 'text', preview };
    state.log.push(entry);
    if (state.log.length > MAX_LOG) state.log.splice(0, state.log.length - MAX_LOG);
    addRow(entry);
    save();
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
      counts.received++;
      const text = typeof event.data === 'string' ? event.data : '[binary ' + formatSize(event.data.byteLength) + ']';
      state.lastReply = text;
      el.reply.textContent = text;
      record('received', event.data);
      vscode.postMessage({ type: 'received', text });
      report();
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
    counts.sent++;
    record('sent', text);
    report();
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
    if (message.type === 'target') {
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
    } else if (message.type === 'send') {
      if (!send(message.text)) vscode.postMessage({ type: 'received', text: '[not connected]' });
    }
  });

  // Restore what was there before a hide, a reload or a re-render.
  el.box.value = state.draft;
  el.reply.textContent = state.lastReply;
  for (const entry of state.log) addRow(entry);
  setConnection('connecting', 'Connecting…');
  el.box.focus();
  vscode.postMessage({ type: 'ready', origin: location.origin });
})();
