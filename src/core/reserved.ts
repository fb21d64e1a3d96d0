/** The paths the server keeps for itself: nothing under this prefix is an endpoint's, and no file there shadows ours. */
export const RESERVED_PREFIX = '/__echo-preview/';
