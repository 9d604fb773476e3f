// src/lib/cache.ts: the one cache idiom (id cache, limits, managed clients, catalogue).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTtlCache } from '../../src/lib/cache.js';

function counting<T>(value: (key: string) => T, delayMs = 0) {
  const calls: string[] = [];
  return {
    calls,
    load: async (key: string) => {
      calls.push(key);
      if (delayMs) await sleep(delayMs);
      return value(key);
    },
  };
}

describe('createTtlCache', () => {
  it('loads a key once while it is kept, and again once its TTL has passed', async () => {
    const source = counting((key) => `${key}!`);
    const cache = createTtlCache({ ttlMs: 50, load: source.load });
    expect(await cache.get('a')).toBe('a!');
    expect(await cache.get('a')).toBe('a!');
    expect(source.calls).toEqual(['a']);
    await sleep(80);
    await cache.get('a');
    expect(source.calls).toEqual(['a', 'a']);
  });

  it('shares one load among callers waiting for the same key', async () => {
    const source = counting((key) => key.length, 30);
    const cache = createTtlCache({ ttlMs: 10_000, load: source.load });
    const answers = await Promise.all([
      cache.get('abc'),
      cache.get('abc'),
      cache.get('abc'),
      cache.get('de'),
    ]);
    expect(answers).toEqual([3, 3, 3, 2]);
    expect(source.calls.sort()).toEqual(['abc', 'de']);
  });

  it('keeps no failed load: the next get tries again', async () => {
    let fail = true;
    const cache = createTtlCache({
      ttlMs: 10_000,
      load: async (key: string) => {
        if (fail) throw new Error(`down for ${key}`);
        return 'up';
      },
    });
    await expect(cache.get('k')).rejects.toThrow('down for k');
    fail = false;
    expect(await cache.get('k')).toBe('up');
  });

  it('with a TTL of 0 keeps nothing: every get loads', async () => {
    const source = counting(() => 1);
    const cache = createTtlCache({ ttlMs: 0, load: source.load });
    await cache.get('a');
    await cache.get('a');
    cache.set('a', 2);
    expect(cache.peek('a')).toBeUndefined();
    expect(source.calls).toEqual(['a', 'a']);
  });

  it('forgets a deleted key and drops the least recently used past max', async () => {
    const cache = createTtlCache<string, number>({ max: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.delete('a');
    expect(cache.peek('a')).toBeUndefined();
    cache.set('c', 3);
    cache.set('d', 4);
    expect([cache.peek('b'), cache.peek('c'), cache.peek('d')]).toEqual([undefined, 3, 4]);
  });
});

describe('a key deleted while its load runs', () => {
  it('still answers the callers waiting for that load', async () => {
    const cache = createTtlCache({
      ttlMs: 10_000,
      load: async (key: string) => {
        await sleep(30);
        return `${key}!`;
      },
    });
    const waiting = cache.get('a');
    cache.delete('a');
    expect(await waiting).toBe('a!');
  });
});

describe('a caller that joined a load which then failed', () => {
  it('gets one load of its own (the source may have come back since that load began)', async () => {
    let up = false;
    const calls: boolean[] = [];
    const cache = createTtlCache({
      ttlMs: 10_000,
      load: async () => {
        const wasUp = up;
        calls.push(wasUp);
        await sleep(30);
        if (!wasUp) throw new Error('down when this load began');
        return 'fresh';
      },
    });
    const first = cache.get('k'); // starts a load while the source is down
    up = true;
    const joined = cache.get('k'); // joins it
    await expect(first).rejects.toThrow('down when this load began');
    expect(await joined).toBe('fresh');
    expect(calls).toEqual([false, true]);
  });
});
