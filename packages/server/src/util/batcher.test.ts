import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('writes simultaneous submissions together and later ones in the next write', async () => {
    const writes: number[][] = [];
    let release: () => void = () => {};
    const batcher = new Batcher<number, string>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items.map((n) => `ok ${n}`);
    });
    const first = [batcher.submit(1), batcher.submit(2)];
    await new Promise((resolve) => setImmediate(resolve));
    // The first write is in flight: these wait and go together.
    const second = [batcher.submit(3), batcher.submit(4), batcher.submit(5)];
    release();
    expect(await Promise.all([...first, ...second])).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4', 'ok 5']);
    expect(writes).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it('fails the items of a failed write, and goes on with the next ones', async () => {
    let calls = 0;
    const batcher = new Batcher<number, number>(async (items) => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
      return items;
    });
    const failed = batcher.submit(1);
    await expect(failed).rejects.toThrow('database down');
    await expect(batcher.submit(2)).resolves.toBe(2);
  });

  it('caps a write at the batch size', async () => {
    const sizes: number[] = [];
    const batcher = new Batcher<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
    expect(sizes).toEqual([2, 2, 1]);
    await batcher.flush();
  });
});
