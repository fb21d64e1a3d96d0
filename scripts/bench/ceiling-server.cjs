// The ceiling for a Node static server on this machine: node:http answering every request from
// memory, with no path checks, no file system calls, no validators. Not a server anyone should
// run, only the answer to "how close to nginx can Node's HTTP stack get at all?".
//   node ceiling-server.cjs <folder> [port]   (reads the folder's files once, at start)
'use strict';
const { readFileSync, readdirSync, statSync } = require('node:fs');
const { createServer } = require('node:http');
const path = require('node:path');

const root = process.argv[2];
const files = new Map();
for (const name of readdirSync(root)) {
  const file = path.join(root, name);
  if (statSync(file).isFile()) files.set(`/${name}`, readFileSync(file));
}

const server = createServer((req, res) => {
  const body = files.get(req.url);
  if (body === undefined) {
    res.writeHead(404, { 'Content-Length': 0 });
    return res.end();
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
  res.end(body);
});
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ceiling server at http://127.0.0.1:${server.address().port}/\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
