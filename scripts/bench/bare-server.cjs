// The baseline for the echo and start-up benchmarks: node:http + ws and nothing else. Same ws
// settings as Echo Preview's endpoint (no compression, 16 MiB messages), no routing, guards or
// events. CommonJS on purpose: as an ES module it starts ~60 ms slower and takes ~6 MiB more
// (the ESM loader), which would flatter Echo Preview's start-up and memory ratios.
// Prints a ready line shaped like the CLI's so the bench reads both the same way.
'use strict';
const { createServer } = require('node:http');
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });

const server = createServer((req, res) => {
  res.writeHead(404, { 'Content-Length': 0 });
  res.end();
});
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`bare http+ws echo at http://127.0.0.1:${server.address().port}/\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
