/** Moved to core/ports/ (one file per port); this re-export goes with the import rewrite. */
export * from './ports/index.ts';
