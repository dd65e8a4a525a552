export * from './errors.js';
export * from './canonical.js';
export * from './signature.js';
export * from './signing.js';
export * from './wire/index.js';
export * from './query/index.js';
