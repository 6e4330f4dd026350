/**
 * A small typed client for the irs-edge HTTP API, for CI scripts:
 *
 *   import { IrsClient } from 'irs-edge/client';
 *   const irs = new IrsClient({ baseUrl: 'https://irs.example.com', token: process.env.IRS_TOKEN! });
 *   const { sha256 } = await irs.uploadModel(bytes);
 *   const job = await irs.waitForJob((await irs.startJob({ kind: 'recertify', model: sha256, original, np: 1000 })).id);
 *   const cert = await irs.certificate(job.certificateId!);
 *
 * Web-standard fetch only: it runs on Node, Deno, Workers and browsers.
 */
import type { z } from 'zod';
import type { CompressRequest, JobDoc, JobRequest } from '../protocol/schemas.ts';
import type { Certificate } from '../protocol/certificate.ts';
import type { CompressReport } from '../onnx/compress/index.ts';

export type JobRequestInput = z.input<typeof JobRequest>;
export type CompressRequestInput = z.input<typeof CompressRequest>;
export type JobView = Omit<JobDoc, 'tenant'> & { links: { self: string; certificate?: string } };

export class IrsApiError extends Error {
  override name = 'IrsApiError';
  constructor(readonly status: number, message: string) {
    super(`${status}: ${message}`);
  }
}

export interface IrsClientOptions {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
}

export class IrsClient {
  private readonly fetcher: typeof fetch;
  constructor(private readonly o: IrsClientOptions) {
    this.fetcher = o.fetch ?? fetch;
  }

  private async request<T>(method: string, path: string, body?: BodyInit, contentType?: string, accept = 'application/json'): Promise<T> {
    const res = await this.fetcher(new URL(path, this.o.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.o.token}`, accept, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try { message = JSON.parse(text).error ?? text; } catch { /* not JSON */ }
      throw new IrsApiError(res.status, message);
    }
    return (accept === 'application/json' ? JSON.parse(text) : text) as T;
  }

  health(): Promise<{ ok: boolean; version: string; backend: string }> {
    return this.request('GET', '/healthz');
  }

  openapi(): Promise<Record<string, unknown>> {
    return this.request('GET', '/v1/openapi.json');
  }

  uploadModel(bytes: Uint8Array): Promise<{ sha256: string; bytes: number }> {
    return this.request('POST', '/v1/models', bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream');
  }

  compress(model: string, req: CompressRequestInput): Promise<CompressReport> {
    return this.request('POST', `/v1/models/${model}/compress`, JSON.stringify(req), 'application/json');
  }

  /** Inputs as .npy bytes (float32 [N, ...shape]). */
  uploadInputs(npy: Uint8Array): Promise<{ sha256: string; count: number; shape: number[] }> {
    return this.request('POST', '/v1/inputs', npy as Uint8Array<ArrayBuffer>, 'application/octet-stream');
  }

  startJob(req: JobRequestInput): Promise<JobView> {
    return this.request('POST', '/v1/jobs', JSON.stringify(req), 'application/json');
  }

  job(id: string): Promise<JobView> {
    return this.request('GET', `/v1/jobs/${id}`);
  }

  /** Polls until the job is done (resolves) or failed (rejects with its error). */
  async waitForJob(id: string, o: { pollMs?: number; timeoutMs?: number; onProgress?: (job: JobView) => void } = {}): Promise<JobView> {
    const deadline = Date.now() + (o.timeoutMs ?? 3_600_000);
    for (;;) {
      const job = await this.job(id);
      o.onProgress?.(job);
      if (job.status === 'done') return job;
      if (job.status === 'failed') throw new IrsApiError(422, `job ${id} failed: ${job.error}`);
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${o.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
    }
  }

  certificate(id: string): Promise<Certificate> {
    return this.request('GET', `/v1/certificates/${id}`);
  }

  certificateTsv(id: string): Promise<string> {
    return this.request('GET', `/v1/certificates/${id}`, undefined, undefined, 'text/tab-separated-values');
  }
}
