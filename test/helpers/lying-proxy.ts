/**
 * A lying shard worker for audit tests: an HTTP proxy in front of an honest `irs serve` that
 * forwards every request unchanged (signature included) and rewrites some shard responses:
 * it moves votes between classes, or alters disagreement counts. It lies on every `every`-th
 * shard response it serves (by default 1 in 5: 20% of its shards), and leaves the identity
 * the worker stated untouched.
 */
import { createServer, type Server } from 'node:http';

export interface LyingProxy {
  url: string;
  /** Shard responses served, and how many were rewritten. */
  readonly served: number;
  readonly lies: number;
  /** Set to false to forward honestly. */
  lying: boolean;
  close(): Promise<void>;
}

interface Shard { counts: number[][]; disagreements?: number[]; count: number }

/** Rewrites one shard response in place; true when something changed. */
export function lie(shard: Shard): boolean {
  if (shard.disagreements) {
    // Fewer disagreements than f^p really has: a smaller zeta, a larger radius.
    shard.disagreements = shard.disagreements.map((d) => (d > 0 ? d - 1 : Math.min(shard.count, d + 2)));
    return true;
  }
  // Move votes from the top class to the next one (at most 5 per input; totals unchanged).
  let changed = false;
  for (const c of shard.counts) {
    let top = 0;
    for (let k = 1; k < c.length; k++) if (c[k] > c[top]) top = k;
    const moved = Math.min(5, c[top]);
    if (moved === 0) continue;
    c[top] -= moved;
    c[(top + 1) % c.length] += moved;
    changed = true;
  }
  return changed;
}

export async function startLyingProxy(target: string, every = 5): Promise<LyingProxy> {
  let served = 0;
  let lies = 0;
  const state = { lying: true };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const upstream = await fetch(new URL(req.url ?? '/', target), { method: req.method, headers, body });
        let text = await upstream.text();
        if (req.url === '/v1/shards' && req.method === 'POST' && upstream.ok) {
          const k = served++;
          if (state.lying && k % every === every - 1) {
            const shard = JSON.parse(text) as Shard;
            if (lie(shard)) { lies++; text = JSON.stringify(shard); }
          }
        }
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      } catch (e) {
        res.writeHead(502);
        res.end(JSON.stringify({ error: String(e) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get served() { return served; },
    get lies() { return lies; },
    get lying() { return state.lying; },
    set lying(v: boolean) { state.lying = v; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
