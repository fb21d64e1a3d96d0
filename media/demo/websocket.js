const WS_PATH = '/websocket';
// WS_PATH is where the echo endpoint is when the server cannot say (Create Demo Files writes
// the configured path there). Echo Preview says where it is at /__echo-preview/endpoints.json,
// so the page follows the server's configured path. The endpoint is on the same host and port
// that served this page (wss:// behind https).
var Websock;

function connect(path) {
    Websock = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path);

    Websock.onopen = function () {
        alert('WebSocket connected.');
    };

    Websock.onmessage = function (msg) {
        // textContent, not innerHTML: the reply is shown as text, never run as markup.
        document.getElementById('replytxt').textContent = msg.data;
    };
}

fetch('/__echo-preview/endpoints.json')
    .then(function (response) {
        return response.ok ? response.json() : undefined;
    })
    .then(function (info) {
        var first = info && info.endpoints && info.endpoints[0];
        return first && typeof first.path === 'string' ? first.path : WS_PATH;
    }, function () {
        return WS_PATH;
    })
    .then(connect);

// Called from the form's Send button (and Enter in the box). An empty box sends nothing.
function sendMessage() {
    if (!Websock || Websock.readyState !== WebSocket.OPEN) {
        alert('WebSocket not connected.');
        return;
    }
    var mbox = document.getElementById('msgbox');
    if (mbox.value) Websock.send(mbox.value);
    mbox.value = '';
}
