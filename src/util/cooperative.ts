/**
 * Cooperative scheduling inside one isolate. onnxruntime-web's wasm computes on the calling
 * thread and its resolved run() hands back control only as a microtask, and a runtime such as
 * workerd runs HTTP requests, queue consumers and Durable Objects of a Worker on one thread
 * (wrangler dev puts them all in one isolate; `irs serve` runs in-process jobs beside its API), so
 * a shard being computed would hold a status request for as long as it computes. The shard loop calls `pause()` between inferences: it always lets other macrotasks
 * run, and while a request is in flight (`foreground`) it waits until that request is answered.
 * Outside workerd nothing marks requests, and `pause()` is one macrotask turn.
 */
let inFlight = 0;

const macrotask: () => Promise<void> = typeof setImmediate === 'function'
  ? () => new Promise<void>((resolve) => setImmediate(resolve))
  : () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Marks an HTTP request as in flight until `work` settles. */
export async function foreground<T>(work: () => T | Promise<T>): Promise<T> {
  inFlight++;
  try {
    return await work();
  } finally {
    inFlight--;
  }
}

/**
 * Runs computation that a request handler does for its own request (POST /v1/shards computes
 * the shard before it answers) as background work: without it, the handler's own request
 * counts as in flight, and every `pause()` of its shard loop waited the full 2 s bound for
 * itself (measured in workerd: ResNet-20 at 7 samples per second of wall time for 102 per
 * CPU-second). Outside workerd nothing is marked, and this only runs `work`.
 */
export async function asBackground<T>(work: () => Promise<T>): Promise<T> {
  const marked = inFlight > 0;
  if (marked) inFlight--;
  try {
    return await work();
  } finally {
    if (marked) inFlight++;
  }
}

/** Lets in-flight requests finish before background computation goes on (bounded: 2 s at most). */
export async function pause(): Promise<void> {
  await macrotask();
  for (let waited = 0; inFlight > 0 && waited < 2000; waited += 2) await new Promise((resolve) => setTimeout(resolve, 2));
}
