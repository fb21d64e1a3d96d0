// The core's public surface for the front doors that load it as its own bundle (dist/core.js, the editor).
export { startServer, StartError, type RunningServer, type ServerOptions } from './server';
export { followConfig, type FollowedConfig } from './config/follow';
export { applyInspectorRequest, toBatchDTO } from './capture/feed';
