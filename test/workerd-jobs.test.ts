/**
 * Jobs on the Workers runtime's own engine, under `wrangler dev --persist-to` (workerd with local
 * R2, Durable Objects and Queues): a job object per job, shards one per queue message.
 *   - certify, recertify and tune jobs give the certificates the same jobs give in-process (results, ids,
 *     cache sha256; the reference runs on onnxruntime-node, bit-identical to wasm on these models), and GET /v1/jobs/:id answers within a second at every poll meanwhile;
 *   - killed mid-job (the whole process group) and restarted on the same state, the job finishes
 *     without being submitted again, with the same certificate;
 *   - a consumer that throws on 30% of deliveries, with every message delivered twice, changes
 *     nothing; a shard that always fails ends its job `failed`, naming the shard, with no
 *     certificate stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, inProcessApi, WranglerDev } from './helpers/jobs.ts';
import { withoutTimes } from './helpers/http.ts';
import type { Certificate } from '../src/protocol/certificate.ts';

const TOKEN = 'dev-token'; // wrangler.toml's development default
// Quick watchdog for the test: a shard is sent again once nothing was heard of it, and no shard finished, for 15 s.
const WATCHDOG = { IRS_SHARD_TIMEOUT_MS: '15000', IRS_WATCHDOG_MS: '1000' };

/** The API on `dev` and in process (onnxruntime-node), each holding the small model and the same `count` MNIST inputs. */
async function edgeAndReference(dev: WranglerDev, count: number) {
  const edge = new Api(dev.fetcher, TOKEN);
  const ref = await inProcessApi(TOKEN, 'node');
  const model = await edge.uploadModel();
  const data = await edge.uploadMnist(count);
  expect(await ref.uploadModel()).toBe(model);
  expect((await ref.uploadMnist(count)).inputs).toBe(data.inputs);
  return { edge, ref, model, data };
}

function expectSameCertificate(a: Certificate, b: Certificate) {
  expect(a.id).toBe(b.id);
  expect(withoutTimes(a)).toEqual(withoutTimes(b));
  expect(a.cache?.sha256).toBe(b.cache?.sha256);
  expect(a.summary.samples).toBe(b.summary.samples);
}

describe('jobs on Durable Objects and Queues (wrangler dev)', () => {
  const state = mkdtempSync(join(tmpdir(), 'irs-do-'));
  const dev = new WranglerDev(state, WATCHDOG);
  let edge: Api;
  let ref: Api;
  let certifyBody: Record<string, unknown>;
  let reference: Certificate;

  beforeAll(async () => {
    await dev.start();
    edge = new Api(dev.fetcher, TOKEN);
    ref = await inProcessApi(TOKEN, 'node');
    const [model, data] = [await edge.uploadModel(), await edge.uploadMnist(8)];
    expect(await ref.uploadModel()).toBe(model);
    expect((await ref.uploadMnist(8)).inputs).toBe(data.inputs);
    // Batches of 64: the longest single inference a status poll may wait behind in the one isolate wrangler dev runs.
    certifyBody = { kind: 'certify', model, data, sigma: 0.5, n0: 50, n: 3000, seed: 5, shardSize: 250, batchSize: 64 };
    reference = (await ref.run(certifyBody)).certificate;
  }, 180_000);
  afterAll(() => dev.kill());

  it('certifies and recertifies with the in-process certificates, answering every poll within 1 s', async () => {
    const latencies: number[] = [];
    const { job, certificate } = await edge.run(certifyBody, latencies);
    expectSameCertificate(certificate, reference);
    expect(job.progress.samplesDone).toBe(job.progress.samplesTotal);
    expect(latencies.length).toBeGreaterThan(3);
    expect(Math.max(...latencies)).toBeLessThan(1000);

    const fp16 = await edge.compress(certifyBody.model as string, 'fp16');
    expect(await ref.compress(certifyBody.model as string, 'fp16')).toBe(fp16);
    const recertify = { kind: 'recertify', model: fp16, original: certificate.id, np: 1000, shardSize: 250, batchSize: 64 };
    const onEdge = await edge.run(recertify, latencies);
    const inProcess = await ref.run(recertify);
    expectSameCertificate(onEdge.certificate, inProcess.certificate);
    expect(onEdge.certificate.results.some((r) => r.branch === 'zeta')).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(1000);

    // Decision mode: one wave per stage, each planned from the last.
    const staged = { ...recertify, np: 1000, shardSize: 128, sequential: { mode: 'decision', radius: 0.9, firstStage: 64 } };
    const stagedEdge = await edge.run(staged, latencies);
    expectSameCertificate(stagedEdge.certificate, (await ref.run(staged)).certificate);
    expect(new Set(stagedEdge.certificate.results.map((r) => r.stage)).size).toBeGreaterThan(1);

    // Tune: consumers compress the candidates, each candidate's shards go on the queue, and the
    // object makes tune's drop / skip decisions between waves: the in-process outcome exactly.
    const tuneBody = {
      kind: 'tune', model: certifyBody.model, original: certificate.id, np: 512, firstStage: 64, batchSize: 64,
      candidates: [{ method: 'fp16' }, { method: 'prune', amount: 0.1 }, { method: 'prune', amount: 0.5 }], target: { radius: 0.25, accuracy: 0.5 },
    };
    const tuneEdge = await edge.run(tuneBody, latencies);
    const tuneRef = await ref.run(tuneBody);
    expect(tuneEdge.job.tune).toEqual(tuneRef.job.tune);
    expect(tuneEdge.job.tune.choice).not.toBeNull();
    expectSameCertificate(tuneEdge.certificate, tuneRef.certificate);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    // int8 calibrates on a bundled dataset by default, which the Worker does not ship: refused at
    // submission, saying what to do instead; on stored inputs it runs, and gives what an
    // in-process run on wasm (the consumer's backend, on which calibration depends) gives.
    const int8 = await edge.submit({ ...tuneBody, candidates: [{ method: 'int8' }] });
    expect(int8.status).toBe(400);
    expect(int8.body.error).toMatch(/^calibration\.source: mnist:train is not available on this runtime; upload the inputs/);
    const wasmRef = await inProcessApi(TOKEN, 'wasm');
    await wasmRef.uploadModel();
    await wasmRef.uploadMnist(8);
    expect((await wasmRef.run(certifyBody)).certificate.id).toBe(certificate.id);
    const calibration = { source: `inputs:${(await edge.uploadMnist(32)).inputs}`, count: 32 };
    await wasmRef.uploadMnist(32);
    const int8Body = { ...tuneBody, candidates: [{ method: 'int8' }, { method: 'fp16' }], calibration };
    const int8Edge = await edge.run(int8Body, latencies);
    const int8Ref = await wasmRef.run(int8Body);
    expect(int8Edge.job.tune).toEqual(int8Ref.job.tune);
    expectSameCertificate(int8Edge.certificate, int8Ref.certificate);

    // The same request again is the same job: nothing is recomputed.
    const again = await edge.submit(recertify);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: onEdge.job.id, status: 'done' });
  }, 240_000);

  it('audits on the queue: an honest fan-out audited at F = 1 agrees on every shard and names its consumer', async () => {
    const { job, certificate } = await edge.run({ ...certifyBody, audit: { fraction: 1 } });
    expectSameCertificate(certificate, reference);
    expect(job.audit).toMatchObject({ fraction: 1, backend: 'wasm', mismatches: [], quarantined: [] });
    expect(job.audit.selected).toBeGreaterThan(0);
    expect(job.audit.agreed).toBe(job.audit.compared);
    expect(job.audit.compared).toBe(job.audit.selected);
    const parties = certificate.provenance!.parties.map((p) => p.party);
    expect(parties.length).toBeGreaterThan(0);
    for (const p of parties) expect(p).toMatch(/^workers-isolate:/);
    expect(certificate.provenance!.shards.every((s) => s.audit?.agreed)).toBe(true);
    // The aggregator here is the job object, which runs no inference: it cannot audit.
    const refused = await edge.submit({ ...certifyBody, seed: 6, audit: { fraction: 0.1, auditor: 'aggregator' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/^audit\.auditor: /);
  }, 240_000);

  it('finishes a job killed mid-way once restarted on the same state, without a new submission', async () => {
    const body = { ...certifyBody, seed: 6 };
    const expected = (await ref.run(body)).certificate;
    const { body: submitted } = await edge.submit(body);
    const midway = await edge.wait(submitted.id, { until: (j) => j.progress.samplesDone >= j.progress.samplesTotal / 4 });
    expect(midway.status).toBe('running');
    await dev.kill();
    await dev.start();
    const done = await edge.wait(submitted.id); // polling only: no POST
    expect(done.status).toBe('done');
    expectSameCertificate(await edge.certificate(done.certificateId), expected);
  }, 240_000);
});

describe('jobs on Durable Objects and Queues under faults (wrangler dev)', () => {
  const dev = new WranglerDev(mkdtempSync(join(tmpdir(), 'irs-do-faults-')), {
    ...WATCHDOG,
    IRS_SHARD_TIMEOUT_MS: '15000',
    IRS_SHARD_SENDS: '2',
    // 30% of deliveries throw; every message is sent twice; shards starting at sample 333 always fail.
    IRS_FAULTS: JSON.stringify({ throwRate: 0.3, duplicate: true, failWhere: { start: 333 } }),
  });
  afterAll(() => dev.kill());

  it('a consumer throwing on 30% of deliveries, with duplicates, yields the identical certificate', async () => {
    await dev.start();
    const { edge, ref, model, data } = await edgeAndReference(dev, 8);
    const body = { kind: 'certify', model, data, sigma: 0.5, n0: 50, n: 2000, seed: 8, shardSize: 250 };
    const onEdge = await edge.run(body);
    expectSameCertificate(onEdge.certificate, (await ref.run(body)).certificate);
  }, 240_000);

  it('a shard that always fails ends the job failed with a message naming it, and no certificate', async () => {
    const { edge, ref, model, data } = await edgeAndReference(dev, 4);
    const body = { kind: 'certify', model, data, sigma: 0.5, n0: 50, n: 999, seed: 9, shardSize: 333 };
    const wouldBe = (await ref.run(body)).certificate.id;
    const { body: submitted } = await edge.submit(body);
    const job = await edge.wait(submitted.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/^shard [0-9a-f]{40} (failed after 2 send|did not complete after 2 send)/);
    expect(job.error).toMatch(/always fails/);
    expect(job.certificateId).toBeUndefined();
    expect((await edge.json(`/v1/certificates/${wouldBe}`)).status).toBe(404);
  }, 240_000);
});

describe('audits on the queue with a lying consumer (wrangler dev)', () => {
  // A second consumer in the isolate, "liar", takes 20% of the shards (by shard key) and moves
  // votes between classes in each: the Queue counterpart of the Node tests' lying proxy.
  const dev = new WranglerDev(mkdtempSync(join(tmpdir(), 'irs-do-liar-')), { ...WATCHDOG, IRS_FAULTS: JSON.stringify({ lie: { rate: 0.2, as: 'liar' } }) });
  afterAll(() => dev.kill());

  it('with audits the lie is caught, the liar named and quarantined, and the certificate is the honest one; without, it differs', async () => {
    await dev.start();
    const { edge, ref, model, data } = await edgeAndReference(dev, 8);
    const body = { kind: 'certify', model, data, sigma: 0.5, n0: 50, n: 2000, seed: 11, shardSize: 100, batchSize: 64 };
    const honest = (await ref.run(body)).certificate;

    const unaudited = await edge.run(body);
    expect(withoutTimes(unaudited.certificate)).not.toEqual(withoutTimes(honest)); // the lie has teeth

    const { job, certificate } = await edge.run({ ...body, audit: { fraction: 1 } });
    expectSameCertificate(certificate, honest);
    expect(job.audit.mismatches.length).toBeGreaterThan(0);
    for (const m of job.audit.mismatches) {
      expect(m.faulty).toBe('liar');
      expect(m.differences.length).toBeGreaterThan(0);
    }
    expect(job.audit.quarantined.map((q: { party: string }) => q.party)).toEqual(['liar']);
    expect(certificate.provenance!.parties.map((p) => p.party)).not.toContain('liar');
    expect(certificate.provenance!.audit!.mismatches[0].faulty).toBe('liar');
  }, 300_000);
});
