// startServer's option defaults: plain values, which a front door imports without loading the server.

export const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  wsPath: '/websocket',
  maxMessageSize: 16 * 1024 * 1024,
  heartbeatMs: 30_000,
  upstreamTimeoutMs: 10_000,
} as const;
