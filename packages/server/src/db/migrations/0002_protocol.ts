import type { Kysely } from 'kysely';
import { runScript } from './script.js';

/** Protocol state: senders and their keys, this server's keys, replay cache, audit trail. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runScript(
    db,
    `
create table sender (
  id text primary key,
  name text,
  active boolean not null default true,
  client_secret_hash text not null,
  operations text[] not null,
  domains text[] not null,
  signature_policy text not null default 'required' check (signature_policy in ('required', 'optional')),
  jwks_url text,
  callback_allow text[] not null default '{}',
  notify_uri text,
  fields text[],
  legal_basis text not null default 'statute' check (legal_basis in ('statute', 'agreement', 'consent')),
  rate_limit_per_minute integer,
  callback_auth jsonb,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table sender_key (
  sender_id text not null references sender (id) on delete cascade,
  kid text not null,
  algorithm text not null check (algorithm in ('ed25519', 'rsa-sha256')),
  public_key_pem text not null,
  source text not null default 'pem' check (source in ('pem', 'jwks')),
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (sender_id, kid)
);

create table server_key (
  kid text primary key,
  algorithm text not null check (algorithm in ('ed25519', 'rsa-sha256')),
  public_key_pem text not null,
  private_key text not null,
  status text not null default 'active' check (status in ('active', 'retiring', 'retired')),
  created_at timestamptz not null default now(),
  retire_after timestamptz
);

create table replay (
  sender_id text not null,
  message_id text not null,
  seen_at timestamptz not null default now(),
  primary key (sender_id, message_id)
);
create index replay_seen_idx on replay (seen_at);

create table dci_transaction (
  id uuid primary key,
  direction text not null check (direction in ('inbound', 'outbound')),
  sender_id text,
  receiver_id text,
  domain text,
  action text,
  path text,
  message_id text,
  transaction_id text,
  correlation_id text,
  reference_ids text[] not null default '{}',
  status text not null,
  reason_code text,
  http_status integer,
  attempt integer not null default 1,
  received_at timestamptz not null default now(),
  completed_at timestamptz,
  duration_ms integer,
  request jsonb,
  response jsonb,
  consent jsonb,
  authorize jsonb
);
create index dci_transaction_sender_txn_idx on dci_transaction (sender_id, transaction_id);
create index dci_transaction_correlation_idx on dci_transaction (correlation_id);
create index dci_transaction_received_idx on dci_transaction (received_at);
`,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runScript(db, `drop table dci_transaction, replay, server_key, sender_key, sender cascade;`);
}
