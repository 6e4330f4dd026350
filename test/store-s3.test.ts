/**
 * S3Store against OpenStack Swift's s3api: a real server that checks SigV4 signatures (s3rver does not).
 * Uses the server at IRS_TEST_S3_ENDPOINT (credentials test:tester / testing, bucket IRS_TEST_S3_BUCKET
 * or irs-test, created if absent); without it, starts one with test/servers/swift.sh, which installs
 * Swift with apt-get when it is missing (root only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Store } from '../src/store/s3.ts';
import { StoreError } from '../src/store/types.ts';
import { freePort, pool, storeContract } from './helpers/store-contract.ts';
import { TEST_BACKEND } from './helpers/backend.ts';

const execFileP = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./servers/swift.sh', import.meta.url));
const credentials = { accessKeyId: 'test:tester', secretAccessKey: 'testing' };
const bucket = process.env.IRS_TEST_S3_BUCKET || 'irs-test';
const external = process.env.IRS_TEST_S3_ENDPOINT;
// Each run writes under its own prefix, so runs against a long-lived server do not see each other.
const runPrefix = `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

let endpoint: string;
let serverDir: string | undefined;
let store: S3Store;
const stores: S3Store[] = [];

function swiftStore(options: { secretAccessKey?: string; accessKeyId?: string } = {}): S3Store {
  const s = new S3Store({ bucket, prefix: runPrefix, endpoint, forcePathStyle: true, credentials: { ...credentials, ...options }, maxAttempts: 2 });
  stores.push(s);
  return s;
}

function client(): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

beforeAll(async () => {
  if (external) {
    endpoint = external;
  } else {
    serverDir = await mkdtemp(join(tmpdir(), 'irs-swift-'));
    const { stdout } = await execFileP('bash', [SCRIPT, 'start', String(await freePort()), serverDir], { timeout: 175_000 });
    const found = /^IRS_TEST_S3_ENDPOINT=(\S+)$/m.exec(stdout)?.[1];
    if (!found) throw new Error(`swift.sh printed no endpoint:\n${stdout}`);
    endpoint = found;
  }
  const c = client();
  try {
    await c.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((e as Error).name)) throw e;
  } finally {
    c.destroy();
  }
  store = swiftStore();
}, 180_000);

afterAll(async () => {
  // Leave a server we did not start as we found it; one we started goes away with its directory.
  if (external && store) await pool(await store.list(''), 32, (o) => store.delete(o.key));
  for (const s of stores) s.close();
  if (serverDir) {
    await execFileP('bash', [SCRIPT, 'stop', serverDir]);
    await rm(serverDir, { recursive: true, force: true });
  }
}, 60_000);

// Swift's s3api refuses conditional PUTs (501), so concurrent putIfAbsent is not atomic there (see s3.ts).
storeContract('S3Store (Swift s3api)', () => store, { atomicPutIfAbsent: false });

describe('S3Store on Swift: authentication and server quirks', () => {
  it('a wrong secret key is a non-retryable StoreError about the signature (SigV4 is really checked)', async () => {
    await store.put('auth/k', new TextEncoder().encode('x'));
    const wrong = swiftStore({ secretAccessKey: 'not-the-secret' });
    for (const op of [() => wrong.get('auth/k'), () => wrong.put('auth/k2', new Uint8Array(1)), () => wrong.list('auth/')]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/signature does not match \(SignatureDoesNotMatch\)/) });
      expect((err as Error).message).not.toContain('not-the-secret');
    }
    // HEAD responses have no body, so only the status says what went wrong.
    await expect(wrong.head('auth/k')).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/access denied .*HTTP 403/) });
    expect(await store.get('auth/k2')).toBeUndefined();
  });

  it('an unknown access key is a non-retryable StoreError', async () => {
    const unknown = swiftStore({ accessKeyId: 'nobody:none' });
    // Swift (tempauth) says SignatureDoesNotMatch here where AWS and s3rver say InvalidAccessKeyId.
    await expect(unknown.get('auth/k')).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/InvalidAccessKeyId|SignatureDoesNotMatch/) });
  });

  it('a conditional PUT onto an existing key is refused (412) or unsupported (501), never a silent overwrite', async () => {
    await store.put('cond/k', new TextEncoder().encode('original'));
    const c = client();
    try {
      const err = await c
        .send(new PutObjectCommand({ Bucket: bucket, Key: `${runPrefix}/cond/k`, Body: new TextEncoder().encode('overwrite'), IfNoneMatch: '*' }))
        .catch((e: unknown) => e as { $metadata?: { httpStatusCode?: number } });
      // Swift 2.30 answers 501 "Conditional object PUTs are not supported."
      expect([412, 501]).toContain(err?.$metadata?.httpStatusCode);
    } finally {
      c.destroy();
    }
    expect(new TextDecoder().decode(await store.get('cond/k'))).toBe('original');
    expect(await store.putIfAbsent('cond/k', new TextEncoder().encode('again'))).toBe(false);
  });
});

describe('the HTTP functions on Swift (S3 with real SigV4)', () => {
  it('certify, then recertify from the cache the first job wrote to the bucket', async () => {
    const { createService } = await import('../src/http/app.ts');
    const { loadMnist } = await import('../src/data/mnist.ts');
    const { readFileSync } = await import('node:fs');
    const mnist = loadMnist('test');
    const s = createService({ store: swiftStore(), tokens: new Map([['t', 'acme']]), workers: [], backend: TEST_BACKEND, dataset: () => mnist });
    const auth = { authorization: 'Bearer t' };
    const json = { ...auth, 'content-type': 'application/json' };
    const model = (await (await s.app.request('/v1/models', { method: 'POST', headers: auth, body: new Uint8Array(readFileSync('models/mnist-small-s0.50.onnx')) })).json()).sha256;
    const job = await (await s.app.request('/v1/jobs', { method: 'POST', headers: json, body: JSON.stringify({ kind: 'certify', model, data: { source: 'mnist:test', count: 2 }, sigma: 0.5, n0: 10, n: 200 }) })).json();
    await s.idle();
    const done = await (await s.app.request(`/v1/jobs/${job.id}`, { headers: auth })).json();
    expect(done.status, done.error).toBe('done');
    const variant = (await (await s.app.request(`/v1/models/${model}/compress`, { method: 'POST', headers: json, body: JSON.stringify({ method: 'fp16' }) })).json()).sha256;
    const re = await (await s.app.request('/v1/jobs', { method: 'POST', headers: json, body: JSON.stringify({ kind: 'recertify', model: variant, original: done.certificateId, np: 100 }) })).json();
    await s.idle();
    const reDone = await (await s.app.request(`/v1/jobs/${re.id}`, { headers: auth })).json();
    expect(reDone.status, reDone.error).toBe('done');
    const cert = await (await s.app.request(`/v1/certificates/${reDone.certificateId}`, { headers: auth })).json();
    expect(cert.original.id).toBe(done.certificateId);
    // Everything the jobs wrote is in the bucket, under the tenant's prefix.
    const keys = (await store.list('tenants/acme/')).map((o) => o.key);
    expect(keys).toContain(`tenants/acme/certificates/${done.certificateId}.cache`);
    expect(keys).toContain(`tenants/acme/certificates/${reDone.certificateId}.json`);
  }, 120_000);
});
