import type { Kysely } from 'kysely';
import { runScript } from './script.js';

/**
 * The answers of async transactions, kept whole (the audit trail keeps them redacted) so that
 * `txn/status` can return the original response: also the only way to read the result of an async
 * request sent without `sender_uri`. Rows live `DCI_RESULT_RETENTION_DAYS`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runScript(
    db,
    `
create table dci_result (
  correlation_id text primary key,
  sender_id text not null,
  domain text not null,
  txn_type text not null,
  transaction_id text not null,
  reference_ids text[] not null default '{}',
  status text not null,
  result jsonb,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index dci_result_sender_txn_idx on dci_result (sender_id, transaction_id);
create index dci_result_reference_idx on dci_result using gin (reference_ids);
create index dci_result_created_idx on dci_result (created_at);
create index dci_transaction_reference_idx on dci_transaction using gin (reference_ids);
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runScript(db, `drop index dci_transaction_reference_idx; drop table dci_result;`);
}
