// The shared window counter's reports (src/rate-limit/window-counter.ts) against a store whose answers the test
// releases one by one: hits that arrive while a report is in flight reach the store once it settles, without
// waiting for another hit (a burst's last hits used to stay in the process that took them).
import { describe, expect, it } from 'vitest';
import type { CounterStore, Increment } from '../../src/rate-limit/counter-store.ts';
import { WindowCounter } from '../../src/rate-limit/window-counter.ts';

/** A store that keeps each add waiting until `release()`; `added` is what it was sent, in order. */
function heldStore(options: { fail?: boolean } = {}) {
  const totals = new Map<string, number>();
  const added: Increment[][] = [];
  const waiting: (() => void)[] = [];
  const store: CounterStore = {
    add: (increments) => new Promise((resolve, reject) => {
      added.push([...increments]);
      waiting.push(() => {
        if (options.fail) return reject(new Error('store down'));
        for (const { bucket, delta } of increments) totals.set(bucket, (totals.get(bucket) ?? 0) + delta);
        resolve(new Map(increments.map(({ bucket }) => [bucket, totals.get(bucket)!])));
      });
    }),
    close: async () => {},
  };
  /** Lets the oldest waiting add answer, then lets its continuations run. */
  const release = async () => {
    waiting.shift()?.();
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  };
  return { store, added, totals, release, waiting: () => waiting.length };
}

const counter = (store: CounterStore, syncEvery = 1) =>
  new WindowCounter({ name: 'test', limit: 100, windowSeconds: 3600, store, syncEvery, now: () => 1_800_000_000_000 });

describe('window counter reports', () => {
  it('reports the hits that came during a report as soon as it settles, with no further hit', async () => {
    const held = heldStore();
    const c = counter(held.store);
    expect(c.hit('ip:1').allowed).toBe(true); // report 1 (1 hit) goes out and waits
    for (let i = 0; i < 4; i += 1) c.hit('ip:1'); // these four wait behind it
    expect(held.added).toHaveLength(1);
    await held.release();
    expect(held.added.map((batch) => batch[0]!.delta)).toEqual([1, 4]);
    await held.release();
    expect(held.totals.get('ip:1')).toBe(5);
    expect(held.waiting()).toBe(0);
  });

  it('with syncEvery above one, a follow-up goes only once enough hits wait', async () => {
    const held = heldStore();
    const c = counter(held.store, 3);
    for (let i = 0; i < 3; i += 1) c.hit('client:a'); // the third sends a report of 3
    c.hit('client:a'); // one waits: fewer than syncEvery
    await held.release();
    expect(held.added.map((batch) => batch[0]!.delta)).toEqual([3]);
    c.hit('client:a');
    c.hit('client:a'); // now three wait: reported at once
    expect(held.added.map((batch) => batch[0]!.delta)).toEqual([3, 3]);
  });

  it('a store that fails still counts in this process, and the waiting hits are tried again', async () => {
    const held = heldStore({ fail: true });
    const c = counter(held.store);
    c.hit('ip:2');
    c.hit('ip:2');
    await held.release();
    expect(held.added).toHaveLength(2); // the waiting hit was sent after the failure
    await held.release();
    expect(held.waiting()).toBe(0);
    for (let i = 0; i < 98; i += 1) c.hit('ip:2');
    await Promise.resolve();
    expect(c.peek('ip:2').allowed).toBe(false); // 100 counted locally: the limit holds without the store
  });
});
