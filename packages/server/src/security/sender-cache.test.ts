import { describe, expect, it } from 'vitest';
import { SenderCache } from './sender-cache.js';

describe('SenderCache', () => {
  it('reads a sender once within its time, again after it, and at once after invalidation', async () => {
    let clock = 0;
    let loads = 0;
    let name = 'first';
    const cache = new SenderCache(
      async (id: string) => {
        loads += 1;
        return { id, name };
      },
      5_000,
      () => clock,
    );
    const [a, b] = await Promise.all([cache.get('s'), cache.get('s')]);
    expect(a).toEqual({ id: 's', name: 'first' });
    expect(b).toBe(a);
    expect(loads).toBe(1);
    name = 'second';
    clock = 4_999;
    expect((await cache.get('s'))?.name).toBe('first');
    clock = 5_000;
    expect((await cache.get('s'))?.name).toBe('second');
    name = 'third';
    cache.invalidate('s');
    expect((await cache.get('s'))?.name).toBe('third');
    expect(loads).toBe(3);
  });

  it('does not remember a failed lookup', async () => {
    let fail = true;
    const cache = new SenderCache(async (id: string) => {
      if (fail) throw new Error('database down');
      return { id };
    });
    await expect(cache.get('s')).rejects.toThrow('database down');
    fail = false;
    await expect(cache.get('s')).resolves.toEqual({ id: 's' });
  });
});
