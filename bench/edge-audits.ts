/**
 * Audits on the Workers Queue, under `wrangler dev`: the same certify job at several audit
 * fractions F, side by side in one run (one job object each, the local Queue, one consumer at a
 * time). Per F: shards computed by the consumer, deliveries handed back (an audit asks the first
 * party to leave it to another consumer; the one isolate of wrangler dev hands it back twice,
 * then computes it), consumer time, and the job's wall time.
 *
 *   npm run bench -- edge-audits [--inputs 16] [--n 5000] [--shard-size 500] [--fractions 0,0.05,0.1,0.2]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Api, WranglerDev } from '../test/helpers/jobs.ts';

const { values } = parseArgs({ options: {
  inputs: { type: 'string', default: '16' }, n: { type: 'string', default: '5000' }, 'shard-size': { type: 'string', default: '500' },
  fractions: { type: 'string', default: '0,0.05,0.1,0.2' },
} });
const fractions = values.fractions!.split(',').map(Number);

const dev = new WranglerDev(mkdtempSync(join(tmpdir(), 'irs-edge-audits-')), {});
await dev.start();
try {
  const api = new Api(dev.fetcher, 'dev-token');
  const model = await api.uploadModel();
  const data = await api.uploadMnist(Number(values.inputs));
  const body = { kind: 'certify', model, data, sigma: 0.5, n0: 100, n: Number(values.n), seed: 1, shardSize: Number(values['shard-size']), batchSize: 100 };
  console.log('| F | shards in the job | audited (compared) | consumer invocations | computed | handed back | consumer s | job wall s | same certificate |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  let baseline: { computed: number; consumer: number; wall: number; results: string } | undefined;
  for (const F of fractions) {
    const before = dev.log.length;
    const t0 = performance.now();
    const { job, certificate } = await api.run(F > 0 ? { ...body, audit: { fraction: F } } : body);
    const wall = (performance.now() - t0) / 1000;
    // wrangler dev logs each delivery as `QUEUE irs-shards <acked>/<messages> (<ms>ms)`: a hand-back
    // (message.retry) acks nothing and computes nothing.
    const deliveries = [...dev.log.slice(before).matchAll(/QUEUE irs-shards (\d+)\/1 \((\d+)ms\)/g)].map((m) => ({ acked: m[1] === '1', ms: Number(m[2]) }));
    const lines = deliveries.map((d) => d.ms);
    const computed = deliveries.filter((d) => d.acked).map((d) => d.ms);
    const consumer = computed.reduce((a, b) => a + b, 0) / 1000;
    const results = JSON.stringify(certificate.results.map(({ time: _t, ...r }) => r));
    baseline ??= { computed: computed.length, consumer, wall, results };
    const shards = certificate.provenance?.shards.length ?? computed.length;
    console.log(`| ${F} | ${shards} | ${job.audit?.compared ?? 0} | ${lines.length} | ${computed.length} (${(computed.length / baseline.computed).toFixed(2)}x) | ${lines.length - computed.length} | ` +
      `${consumer.toFixed(1)} (${(consumer / baseline.consumer).toFixed(2)}x) | ${wall.toFixed(1)} (${(wall / baseline.wall).toFixed(2)}x) | ${results === baseline.results ? 'yes' : 'NO'} |`);
  }
} finally {
  await dev.kill();
}
