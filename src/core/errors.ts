/**
 * `SessionError` and its codes, as the core's users import them. The class lives in
 * src/base/errors.ts, below the token formats, so that `tokens/` can throw it without importing
 * the core (the core imports `tokens/`, never the reverse).
 */
export * from '../base/errors.js';
