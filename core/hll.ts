// Placeholder: implemented in this session (HyperLogLog, precision 14, 64-bit hash). See pipeline/rollup.
export {};
