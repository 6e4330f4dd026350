/** Serves the functions on Node with @hono/node-server: `irs serve`, and the Node entry functions/node.ts. */
import { serve as serveNode, type ServerType } from '@hono/node-server';
import { createService, type Service } from './app.ts';
import { defaultFastBackend, type BackendName } from '../inference/index.ts';
import { openStore } from '../store/url.ts';
import { loadMnist } from '../data/mnist.ts';
import type { Dataset } from '../data/dataset.ts';
import type { ServiceConfig } from '../service/runtime.ts';

export interface NodeServeOptions {
  port: number;
  host?: string;
  store: string;
  tokens: Map<string, string>;
  workerToken?: string;
  workers?: string[];
  backend?: BackendName;
  maxConcurrentShards?: number;
  workerId?: string;
  fanOut?: ServiceConfig['fanOut'];
}

const datasets = new Map<string, Dataset>();
function bundledDataset(source: string): Dataset {
  let ds = datasets.get(source);
  if (!ds) {
    ds = loadMnist(source === 'mnist:train' ? 'train' : 'test');
    datasets.set(source, ds);
  }
  return ds;
}

export async function serve(o: NodeServeOptions): Promise<{ service: Service; server: ServerType; url: string; close(): Promise<void> }> {
  const service = createService({
    store: await openStore(o.store, process.env),
    tokens: o.tokens,
    workerToken: o.workerToken,
    workers: o.workers ?? [],
    backend: o.backend ?? (await defaultFastBackend()),
    dataset: bundledDataset,
    maxConcurrentShards: o.maxConcurrentShards,
    workerId: o.workerId,
    fanOut: o.fanOut,
  });
  const host = o.host ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve) => {
    const s = serveNode({ fetch: service.app.fetch, port: o.port, hostname: host }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  await service.resumePending();
  return {
    service, server, url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
