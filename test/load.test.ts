/** A short load run on loopback: concurrent shards beyond the server's limit get 429, nothing else fails. */
import { describe, expect, it } from 'vitest';
import { runLoad } from '../reliability/load.ts';

describe('load on irs serve', () => {
  it('answers 200 or deliberate 429 under concurrency above its shard limit, and keeps serving', async () => {
    const r = await runLoad({ requests: 80, concurrency: 6, maxShards: 1, samples: 256, seconds: 60 });
    expect([...r.other]).toEqual([]);
    expect(r.ok).toBe(r.requests);
    expect(r.requests).toBe(80);
    expect(r.busy).toBeGreaterThan(0);
  }, 90_000);
});
