import type { Kysely } from 'kysely';
import { runScript } from './script.js';

/**
 * Subscriptions and their notification outbox (contract §8). The matcher fills `notification` in
 * the transaction of the registry change; deliveries read it in order per subscription. Events
 * carry the id of the write that made them (`batch_id`), so that the matcher finds exactly them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runScript(
    db,
    `
alter table registry_event add column batch_id uuid;
create index registry_event_batch_idx on registry_event (batch_id) where batch_id is not null;

create table subscription (
  code text primary key,
  sender_id text not null references sender (id) on delete cascade,
  domain text not null,
  event_types text[] not null,
  record_type text not null,
  record_kind text not null check (record_kind in ('individual', 'household')),
  filter_type text,
  filter jsonb,
  notify_url text not null,
  frequency jsonb,
  starts_at timestamptz,
  expires_at timestamptz,
  status text not null default 'active' check (status in ('active', 'suspended', 'unsubscribed', 'expired')),
  status_reason text,
  transaction_id text not null,
  reference_id text not null,
  correlation_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index subscription_sender_idx on subscription (sender_id);
create index subscription_active_idx on subscription (domain) where status = 'active';

create table notification (
  id bigint generated always as identity primary key,
  subscription_code text not null references subscription (code) on delete cascade,
  event_id bigint not null,
  event_type text not null,
  record_id uuid not null,
  status text not null default 'pending' check (status in ('pending', 'delivered')),
  message_id text,
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz
);
create index notification_pending_idx on notification (subscription_code, id) where status = 'pending';
create index notification_message_idx on notification (message_id) where message_id is not null;
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runScript(
    db,
    `drop table notification, subscription; drop index registry_event_batch_idx; alter table registry_event drop column batch_id;`,
  );
}
