import type { JobQueue } from './queue.js';

/** The durable work of the server: running async requests and delivering their callbacks. */
export const QUEUES = {
  /** Runs an async request (search) and enqueues its callback. */
  request: 'dci-request',
  /** POSTs one signed callback; retried with backoff, then dead-lettered. */
  deliver: 'dci-deliver',
  /** Callbacks whose every attempt failed. */
  dead: 'dci-deliver-dead',
  /** Drains one subscription's notifications, in order (one job per subscription at a time). */
  notify: 'dci-notify',
} as const;

export interface RetrySettings {
  retryLimit: number;
  retryDelaySeconds: number;
  retryDelayMaxSeconds: number;
}

async function ensureQueue(boss: JobQueue, name: string, options: Parameters<JobQueue['createQueue']>[1] = {}) {
  if (await boss.getQueue(name)) await boss.updateQueue(name, options);
  else await boss.createQueue(name, options);
}

/** Creates (or reconfigures) the queues; every node runs it at start, it is idempotent. */
export async function ensureQueues(boss: JobQueue, retry: RetrySettings): Promise<void> {
  await ensureQueue(boss, QUEUES.dead, { retentionSeconds: 30 * 86_400 });
  await ensureQueue(boss, QUEUES.deliver, {
    retryLimit: retry.retryLimit,
    retryDelay: retry.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: retry.retryDelayMaxSeconds,
    deadLetter: QUEUES.dead,
  });
  await ensureQueue(boss, QUEUES.request, { retryLimit: 5, retryDelay: 2, retryBackoff: true, retryDelayMax: 300 });
  // One job per subscription: stately keeps one queued and one active per code. The heartbeat
  // gives the job of a node that died back within half a minute.
  const notify = {
    retryLimit: retry.retryLimit,
    retryDelay: retry.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: retry.retryDelayMaxSeconds,
  };
  if (await boss.getQueue(QUEUES.notify)) await boss.updateQueue(QUEUES.notify, notify);
  else await boss.createQueue(QUEUES.notify, { ...notify, policy: 'stately', heartbeatSeconds: 30 });
}
