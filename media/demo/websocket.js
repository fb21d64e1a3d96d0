// Open the WebSocket straight away; the page need not have finished loading.
// The endpoint is on the same host and port that served this page (wss:// behind https).
var Websock = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/websocket');

Websock.onopen = function () {
    alert('WebSocket connected.');
};

Websock.onmessage = function (msg) {
    // textContent, not innerHTML: the reply is shown as text, never run as markup.
    document.getElementById('replytxt').textContent = msg.data;
};

// Called from the form's Send button (and Enter in the box). An empty box sends nothing.
function sendMessage() {
    if (Websock.readyState !== WebSocket.OPEN) {
        alert('WebSocket not connected.');
        return;
    }
    var mbox = document.getElementById('msgbox');
    if (mbox.value) Websock.send(mbox.value);
    mbox.value = '';
}
