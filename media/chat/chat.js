const CHAT_PATH = '/chat';
// The chat demo: each page connects to CHAT_PATH, an endpoint in broadcast mode (see the
// .echo-preview.json that Create Demo Files writes), and sends {"name": ..., "text": ...}. Every
// message the server sends is shown, the page's own included: the broadcast sends it back.
// Anything that is not such JSON (a push from the inspector, say) is shown as it came.
var socket;
var retryTimer;

function show(name, text, note) {
    var list = document.getElementById('messages');
    var item = document.createElement('li');
    if (name) {
        var who = document.createElement('span');
        who.className = 'name';
        who.textContent = name + ': ';
        item.appendChild(who);
    }
    // textContent, never innerHTML: a message is shown as text, never run as markup.
    var body = document.createElement('span');
    if (note) body.className = 'note';
    body.textContent = text;
    item.appendChild(body);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
}

function parse(data) {
    try {
        var message = JSON.parse(data);
        if (message && typeof message.name === 'string' && typeof message.text === 'string') return message;
    } catch {
        // not JSON: shown as it came
    }
    return undefined;
}

function setStatus(text) {
    document.getElementById('status').textContent = text;
}

function connect() {
    clearTimeout(retryTimer);
    socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + CHAT_PATH);
    socket.onopen = function () {
        setStatus('Connected to ' + CHAT_PATH + '.');
    };
    socket.onmessage = function (event) {
        if (typeof event.data !== 'string') return show('', '(a binary message)', true);
        var message = parse(event.data);
        if (message) show(message.name, message.text, false);
        else show('', event.data, true);
    };
    socket.onclose = function (event) {
        setStatus('Disconnected (' + event.code + '). Reconnecting…');
        retryTimer = setTimeout(connect, 2000);
    };
}

function send(event) {
    event.preventDefault();
    var name = document.getElementById('name');
    var message = document.getElementById('message');
    if (!name.value.trim()) {
        name.focus();
        return;
    }
    if (!message.value) {
        message.focus();
        return;
    }
    if (!socket || socket.readyState !== WebSocket.OPEN) {
        setStatus('Not connected yet: your message is still in the box.');
        return;
    }
    try {
        localStorage.setItem('echo-preview-chat-name', name.value.trim());
    } catch {
        // storage unavailable: the name is simply not remembered
    }
    socket.send(JSON.stringify({ name: name.value.trim(), text: message.value }));
    message.value = '';
    message.focus();
}

document.getElementById('chatform').addEventListener('submit', send);
try {
    document.getElementById('name').value = localStorage.getItem('echo-preview-chat-name') || '';
} catch {
    // storage unavailable
}
document.getElementById(document.getElementById('name').value ? 'message' : 'name').focus();
connect();
