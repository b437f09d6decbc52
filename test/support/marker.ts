/**
 * The marker token of the secret-leak tests: a recognisable secret, valid as a query value
 * and as a subprotocol token (base64url). No imports, so the global setup can load it.
 */
export const SECRET = 'LeakCanary-7f3c9e2a5b1d-secret'
