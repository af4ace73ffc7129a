// Generated from conversations/realtime/protocol.py by `manage.py protocol_js`;
// do not edit (a test fails when it differs from the Python).
export const SUBPROTOCOL = "customeragent.v2";
export const AUTH_PREFIX = "auth.";
export const MESSAGE_MAX_CHARS = 4000;
export const CLIENT_ID_MAX_CHARS = 64;
export const STAFF_CLIENT_ID_PATTERN = "^[A-Za-z0-9_-]{1,56}$";
export const CLOSE_RESTARTING = 1012;
export const CLOSE_TRY_AGAIN = 1013;
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_RATE_LIMITED = 4429;
