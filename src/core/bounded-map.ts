/** The bounded map of src/base/bounded-map.ts, re-exported for the layers above the core. */
export * from '../base/bounded-map.js';
