/**
 * The DCI wire format: schemas (TypeBox), the endpoint table, message builders and validators.
 */
export * from './common.js';
export * from './header.js';
export * from './query.js';
export * from './search.js';
export * from './subscribe.js';
export * from './txn.js';
export * from './extras.js';
export * from './envelope.js';
export * from './schemas.js';
export * from './endpoints.js';
export * from './build.js';
export * from './validate.js';
