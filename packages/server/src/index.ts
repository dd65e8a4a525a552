export { loadConfig, ConfigError, DOMAINS, type Config, type Domain, type Role } from './config.js';
export { openDatabase, redactUrl, DEFAULT_DATABASE_URL, type Database, type Backend } from './db/open.js';
export { DataDirLockedError } from './db/lock.js';
export { migrateToLatest, isMigrated } from './db/migrate.js';
export { runInTx } from './db/tx.js';
export type { DB } from './db/schema.js';
export { startQueue, enqueue, type JobQueue } from './jobs/queue.js';
export { openStore } from './store.js';
export { buildApp, type AppOptions } from './http/app.js';
export { serve, type ServeOptions } from './main.js';
export { importFile, importRows, type ImportReport, type ImportOptions, type RowFailure } from './registry/import.js';
export { generateRegistry, writeNdjson, type GenerateOptions, type GenerateSummary } from './registry/generate.js';
export { generatedRows, seedDemoRegistry, registryIsEmpty, DEMO_SEED } from './registry/demo.js';
export { ProgressBar } from './registry/progress.js';
export { RECORD_TYPES, type RecordType, type ImportRecord } from './registry/records.js';
export * from './security/index.js';
export { AuditTrail } from './audit/audit.js';
export {
  SubscriptionStore,
  SubscriptionError,
  type Subscription,
  type Delivery,
  type DeliveryStatus,
} from './subscriptions/store.js';
export type { SubscriptionStatus } from './db/schema.js';
