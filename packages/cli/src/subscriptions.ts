/**
 * `dci subscriptions …` and `dci deliveries list` (contract.md §1): the operator's view of the
 * subscriptions and of their notification outbox, the same as the admin API's. An unknown code or
 * a change the state does not allow exits with code 1 and a one-line message.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import {
  SubscriptionError,
  SubscriptionStore,
  type Delivery,
  type DeliveryStatus,
  type Subscription,
  type SubscriptionStatus,
} from '@opendci/server';
import { action, CliInputError, print, printJson, withStore } from './common.js';

const SUBSCRIPTION_STATUSES: SubscriptionStatus[] = ['active', 'suspended', 'unsubscribed', 'expired'];
const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'delivered', 'failed'];

function positiveInt(name: string) {
  return (value: string) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new CliInputError(`${name} must be a positive integer`);
    return n;
  };
}

/** Runs `fn` on the subscription store; store failures become one-line CLI errors. */
async function withSubscriptions<T>(
  fn: (store: SubscriptionStore) => Promise<T>,
  about: { code?: string; verb?: string } = {},
): Promise<T> {
  try {
    return await withStore(({ db }) => fn(new SubscriptionStore(db)));
  } catch (error) {
    if (error instanceof SubscriptionError) {
      if (error.kind === 'not-found' && about.code !== undefined) {
        throw new CliInputError(`no subscription "${about.code}"`);
      }
      throw new CliInputError(about.verb ? `cannot ${about.verb}: ${error.message}` : error.message);
    }
    throw error;
  }
}

function time(value: Date | null): string {
  return value ? value.toISOString() : '-';
}

function orDash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : value;
}

/** Fixed-width columns; the last one is not padded. */
function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  print(line(header));
  for (const row of rows) print(line(row));
}

const LABEL_WIDTH = 13;

function describeSubscription(s: Subscription): void {
  const rows: [string, string][] = [
    ['code', s.code],
    ['sender', s.senderId],
    ['domain', s.domain],
    ['status', s.statusReason ? `${s.status} (${s.statusReason})` : s.status],
    ['event types', s.eventTypes.join(', ') || '-'],
    ['record type', s.recordType],
    ['filter', s.filter === null || s.filter === undefined ? '-' : JSON.stringify(s.filter)],
    ['filter type', orDash(s.filterType)],
    ['notify url', s.notifyUrl],
    ['frequency', s.frequency === null || s.frequency === undefined ? '-' : JSON.stringify(s.frequency)],
    ['starts', time(s.startsAt)],
    ['expires', time(s.expiresAt)],
    ['pending', String(s.pending ?? 0)],
    ['transaction', s.transactionId],
    ['reference', s.referenceId],
    ['correlation', s.correlationId],
    ['created', time(s.createdAt)],
    ['updated', time(s.updatedAt)],
  ];
  for (const [label, value] of rows) print(`  ${label.padEnd(LABEL_WIDTH)} ${value}`);
}

function deliveryRow(d: Delivery): string[] {
  return [
    d.id,
    d.subscriptionCode,
    d.eventType,
    d.recordId,
    d.status,
    String(d.attempts),
    time(d.createdAt),
    orDash(d.lastError?.replace(/\s+/g, ' ')),
  ];
}

export function registerSubscriptionsCommands(program: Command): void {
  const subscriptions = program
    .command('subscriptions')
    .description('the subscriptions senders made (notifications of registry changes)');

  subscriptions
    .command('list')
    .description('list the subscriptions, oldest first')
    .option('--sender <id>', "only this sender's subscriptions")
    .addOption(new Option('--status <status>', 'only subscriptions in this state').choices(SUBSCRIPTION_STATUSES))
    .option('--json', 'machine-readable output')
    .action(
      action(async (options) => {
        const list = await withSubscriptions((store) =>
          store.list({
            ...(options.sender === undefined ? {} : { senderId: options.sender }),
            ...(options.status === undefined ? {} : { status: options.status }),
          }),
        );
        if (options.json) return printJson(list);
        if (list.length === 0) return print('no subscriptions');
        table(
          ['CODE', 'SENDER', 'DOMAIN', 'STATUS', 'EVENTS', 'RECORD', 'PENDING', 'CREATED'],
          list.map((s) => [
            s.code,
            s.senderId,
            s.domain,
            s.status,
            s.eventTypes.join(',') || '-',
            s.recordType,
            String(s.pending ?? 0),
            time(s.createdAt),
          ]),
        );
      }),
    );

  subscriptions
    .command('show')
    .description('show one subscription')
    .argument('<code>', 'subscription code')
    .option('--json', 'machine-readable output')
    .action(
      action(async (code, options) => {
        const found = await withSubscriptions((store) => store.require(code), { code });
        if (options.json) return printJson(found);
        describeSubscription(found);
      }),
    );

  subscriptions
    .command('suspend')
    .description('stop deliveries of an active subscription (its backlog is kept)')
    .argument('<code>', 'subscription code')
    .option('--json', 'machine-readable output')
    .action(
      action(async (code, options) => {
        const suspended = await withSubscriptions(
          async (store) => {
            await store.suspend(code, 'suspended by an operator (dci subscriptions suspend)');
            return store.require(code);
          },
          { code, verb: 'suspend' },
        );
        if (options.json) return printJson(suspended);
        print(`subscription ${code} suspended (${suspended.pending ?? 0} pending notifications kept)`);
      }),
    );

  subscriptions
    .command('resume')
    .description('make a suspended subscription active again: its backlog is delivered, in order')
    .argument('<code>', 'subscription code')
    .option('--json', 'machine-readable output')
    .action(
      action(async (code, options) => {
        const resumed = await withSubscriptions(
          async (store) => {
            await store.resume(code);
            return store.require(code);
          },
          { code, verb: 'resume' },
        );
        if (options.json) return printJson(resumed);
        print(`subscription ${code} active (${resumed.pending ?? 0} pending notifications to deliver)`);
      }),
    );

  subscriptions
    .command('delete')
    .description('delete a subscription and its queued notifications')
    .argument('<code>', 'subscription code')
    .option('--json', 'machine-readable output')
    .action(
      action(async (code, options) => {
        await withSubscriptions((store) => store.delete(code), { code });
        if (options.json) return printJson({ code, deleted: true });
        print(`subscription ${code} deleted`);
      }),
    );

  const deliveries = program.command('deliveries').description('the notification outbox');

  deliveries
    .command('list')
    .description('list notifications, newest first (failed = still pending after a failed attempt)')
    .addOption(new Option('--status <status>', 'only deliveries in this state').choices(DELIVERY_STATUSES))
    .option('--subscription <code>', 'only the notifications of this subscription')
    .option('--limit <n>', 'at most this many (default 100)', positiveInt('--limit'))
    .option('--json', 'machine-readable output')
    .action(
      action(async (options) => {
        const list = await withSubscriptions((store) =>
          store.deliveries({
            ...(options.status === undefined ? {} : { status: options.status }),
            ...(options.subscription === undefined ? {} : { subscriptionCode: options.subscription }),
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          }),
        );
        if (options.json) return printJson(list);
        if (list.length === 0) return print('no deliveries');
        table(
          ['ID', 'SUBSCRIPTION', 'EVENT', 'RECORD', 'STATUS', 'ATTEMPTS', 'CREATED', 'LAST ERROR'],
          list.map(deliveryRow),
        );
      }),
    );
}
