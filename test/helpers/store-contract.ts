/**
 * The behaviour every ObjectStore adapter must have, as one suite to run against each of them
 * (test/store.test.ts: memory, file, R2 fake, s3rver; test/store-s3.test.ts: Swift s3api).
 */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../../src/store/types.ts';

export interface ContractOptions {
  /** Keys for the pagination test; above 1000 crosses S3's and R2's page size. Default 1100. */
  listCount?: number;
  /** Whether concurrent putIfAbsent calls on one key are guaranteed a single winner. */
  atomicPutIfAbsent?: boolean;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** `store` is called inside the tests, so the store may be created in a beforeAll. */
export function storeContract(name: string, store: () => ObjectStore, options: ContractOptions = {}): void {
  const listCount = options.listCount ?? 1100;

  // Every test writes under its own first segment, so tests do not see each other's keys.
  describe(`${name}: ObjectStore contract`, () => {
    it('has a description', () => {
      expect(store().description).toMatch(/^[a-z0-9]+:/);
    });

    it('gives undefined for a missing key, from get and head', async () => {
      const s = store();
      expect(await s.get('missing/nothing-here')).toBeUndefined();
      expect(await s.head('missing/nothing-here')).toBeUndefined();
      expect(await s.get('missing')).toBeUndefined();
    });

    it('round-trips binary bytes, including empty and 1 MiB random bodies', async () => {
      const s = store();
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await s.put('bin/all-bytes', all, { contentType: 'application/octet-stream' });
      expect(await s.get('bin/all-bytes')).toEqual(all);
      await s.put('bin/empty', new Uint8Array(0));
      expect(await s.get('bin/empty')).toEqual(new Uint8Array(0));
      const big = new Uint8Array(randomBytes(1 << 20));
      await s.put('bin/deep/er/1mib.bin', big);
      const back = await s.get('bin/deep/er/1mib.bin');
      expect(back).toBeInstanceOf(Uint8Array);
      expect(back!.length).toBe(big.length);
      // Byte for byte; toEqual on 1 MiB would print a useless diff on failure.
      expect(Buffer.compare(Buffer.from(back!), Buffer.from(big))).toBe(0);
      expect((await s.head('bin/deep/er/1mib.bin'))?.size).toBe(1 << 20);
    });

    it('overwrites with put', async () => {
      const s = store();
      await s.put('over/x.json', enc('{"v":1}'), { contentType: 'application/json' });
      await s.put('over/x.json', enc('{"v":22}'), { contentType: 'application/json' });
      expect(dec(await s.get('over/x.json'))).toBe('{"v":22}');
      expect((await s.head('over/x.json'))?.size).toBe(8);
    });

    it('putIfAbsent writes once: then returns false and leaves the content alone', async () => {
      const s = store();
      expect(await s.putIfAbsent('once/k', enc('first'))).toBe(true);
      expect(await s.putIfAbsent('once/k', enc('second, longer'))).toBe(false);
      expect(dec(await s.get('once/k'))).toBe('first');
      expect((await s.head('once/k'))?.size).toBe(5);
      await s.put('once/k2', enc('by put'));
      expect(await s.putIfAbsent('once/k2', enc('x'))).toBe(false);
      expect(dec(await s.get('once/k2'))).toBe('by put');
    });

    if (options.atomicPutIfAbsent) {
      it('concurrent putIfAbsent on one key: exactly one wins and its body is stored', async () => {
        const s = store();
        const bodies = Array.from({ length: 20 }, (_, i) => enc(`writer ${i} `.repeat(1000)));
        const results = await Promise.all(bodies.map((b) => s.putIfAbsent('race/k', b)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await s.get('race/k')).toEqual(bodies[results.indexOf(true)]);
      });
    }

    it('head gives key, size and (where the store has one) an etag that changes with the content', async () => {
      const s = store();
      await s.put('head/a', enc('12345'));
      const h1 = await s.head('head/a');
      expect(h1).toMatchObject({ key: 'head/a', size: 5 });
      await s.put('head/a', enc('1234567'));
      const h2 = await s.head('head/a');
      expect(h2).toMatchObject({ key: 'head/a', size: 7 });
      if (h1?.etag !== undefined) expect(h2?.etag).not.toBe(h1.etag);
    });

    it('lists by string prefix, sorted, with sizes', async () => {
      const s = store();
      for (const k of ['ls/b', 'ls/a/2', 'ls/a/1', 'ls/ab', 'ls/a.z', 'ls2/x', 'lt']) await s.put(k, enc(k));
      const keys = async (p: string) => (await s.list(p)).map((o) => o.key);
      expect(await keys('ls/')).toEqual(['ls/a.z', 'ls/a/1', 'ls/a/2', 'ls/ab', 'ls/b']);
      expect(await keys('ls/a')).toEqual(['ls/a.z', 'ls/a/1', 'ls/a/2', 'ls/ab']);
      expect(await keys('ls/a/')).toEqual(['ls/a/1', 'ls/a/2']);
      expect(await keys('ls')).toEqual(['ls/a.z', 'ls/a/1', 'ls/a/2', 'ls/ab', 'ls/b', 'ls2/x']);
      expect(await keys('ls/nothing/')).toEqual([]);
      expect(await keys('nothing-at-all')).toEqual([]);
      expect((await s.list('ls/a/1'))[0]).toMatchObject({ key: 'ls/a/1', size: 6 });
      const everything = await keys('');
      expect(everything).toEqual(expect.arrayContaining(['ls/a/1', 'ls2/x', 'lt']));
      expect(everything).toEqual([...everything].sort());
    });

    it(`lists all pages: ${listCount} keys`, async () => {
      const s = store();
      const keys = Array.from({ length: listCount }, (_, i) => `page/k${String(i).padStart(5, '0')}`);
      // Written shuffled so a store returning insertion order would fail.
      const shuffled = [...keys].sort(() => Math.random() - 0.5);
      await pool(shuffled, 32, (k) => s.put(k, enc(k.slice(-3))));
      const listed = await s.list('page/');
      expect(listed.map((o) => o.key)).toEqual(keys);
      expect(listed.every((o) => o.size === 3)).toBe(true);
    });

    it('deletes; deleting a missing key is not an error', async () => {
      const s = store();
      await s.put('del/a', enc('x'));
      await s.put('del/b', enc('y'));
      await s.delete('del/a');
      expect(await s.get('del/a')).toBeUndefined();
      expect(await s.head('del/a')).toBeUndefined();
      expect((await s.list('del/')).map((o) => o.key)).toEqual(['del/b']);
      await s.delete('del/a');
      await s.delete('del/never-was');
      expect(dec(await s.get('del/b'))).toBe('y');
    });

    it('rejects invalid keys with a RangeError naming the key, before touching the store', async () => {
      const s = store();
      const bad = ['', '/abs', 'a//b', 'a/', 'a/../b', '..', 'a/./b', 'sp ace', 'ü', 'a\\b', 'q?x', 'x'.repeat(1025)];
      for (const key of bad) {
        for (const op of [() => s.get(key), () => s.head(key), () => s.delete(key), () => s.put(key, enc('x')), () => s.putIfAbsent(key, enc('x'))]) {
          await expect(op()).rejects.toThrow(RangeError);
        }
        await expect(s.get(key)).rejects.toThrow(key.length > 100 ? 'xxxxxxxx' : JSON.stringify(key));
      }
      await expect(s.list('/abs')).rejects.toThrow(RangeError);
      await expect(s.list('a/../')).rejects.toThrow(RangeError);
      await expect(s.list('sp ace')).rejects.toThrow(RangeError);
    });

    it('stores a 1000-character key (segments within a file system\'s 255-byte name limit)', async () => {
      const s = store();
      const long = ['long', ...Array.from({ length: 4 }, (_, i) => String(i).repeat(200)), 'k'.repeat(1000 - 5 - 4 * 201)].join('/');
      expect(long).toHaveLength(1000);
      expect(await s.get(long)).toBeUndefined();
      await s.put(long, enc('long'));
      expect(dec(await s.get(long))).toBe('long');
      expect((await s.list('long/')).map((o) => o.key)).toEqual([long]);
    });
  });
}

/** Runs fn over items with at most n in flight. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
