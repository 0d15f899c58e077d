/**
 * The store contract, where store authors have always imported it. It is the core's port and
 * lives in src/core/store.ts (the core depends on no store); this file only re-exports it.
 */
export * from '../core/store.js';
