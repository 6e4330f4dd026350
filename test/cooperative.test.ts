import { describe, expect, it } from 'vitest';
import { asBackground, foreground, pause } from '../src/util/cooperative.ts';

async function timed(f: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

describe('cooperative pause (util/cooperative.ts)', () => {
  it('waits while another request is in flight, but a request never waits for its own shard', async () => {
    // A request computing its own shard (POST /v1/shards): pause() must not wait for itself.
    const own = await foreground(() => asBackground(() => timed(pause)));
    expect(own).toBeLessThan(500);
    // Another request in flight: the background loop waits for it (here: it answers in ~50 ms).
    let answered = false;
    const other = foreground(() => new Promise<void>((r) => setTimeout(() => { answered = true; r(); }, 50)));
    const waited = await timed(pause);
    expect(answered).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(40);
    await other;
    // Unmarked (Node, irs serve): one macrotask turn.
    expect(await timed(pause)).toBeLessThan(500);
  });
});
