/**
 * Files as a job's sources (jobs/plan.ts JobSources), for the CLI: the model files, --data
 * (mnist:test, mnist:train or a .npy), the --original certificate and its cache file. The CLI
 * registers what its flags name, builds a JobRequest naming them by sha256 / id, and planJob
 * reads them back through this port, as the functions read the object store.
 */
import { existsSync } from 'node:fs';
import type { Dataset } from '../data/dataset.ts';
import type { Certificate, ModelRef } from '../protocol/certificate.ts';
import type { CalibrationSpec, DataSpec } from '../protocol/schemas.ts';
import { calibrationSet, type CalibrationSet, type JobSources } from '../jobs/plan.ts';
import { NotFound } from '../errors.ts';
import { sha256Hex } from '../util/digest.ts';
import { cachePathFor, jobInputs, openDataset, readBytes, readCertificate, selectInputs } from './io.ts';
import type { JobInputs } from '../jobs/common.ts';

const BUNDLED = new Set(['mnist:test', 'mnist:train']);

export class FileSources implements JobSources {
  private readonly models = new Map<string, { ref: ModelRef; bytes: Uint8Array }>();
  private readonly datasets = new Map<string, Dataset>();
  private readonly originals = new Map<string, { certificate: Certificate; cachePath: string }>();
  /** recertify and tune --data: the original's inputs read from here (they moved), by index. */
  private originalData?: { data?: string; labels?: string };

  /** A model file (loaded by cli/io.ts loadModel); returns its sha256, the request's `model`. */
  addModel(model: { ref: ModelRef; bytes: Uint8Array }): string {
    this.models.set(model.ref.sha256, model);
    return model.ref.sha256;
  }

  /** --data (and --labels): the request's DataSpec source, a bundled dataset or a file's sha256. */
  async addData(data: string, labels?: string): Promise<{ source: 'mnist:test' | 'mnist:train' } | { inputs: string }> {
    const ds = openDataset(data, labels);
    if (BUNDLED.has(data)) return { source: data as 'mnist:test' | 'mnist:train' };
    const sha = await sha256Hex(readBytes(data, 'inputs'));
    this.datasets.set(sha, ds);
    return { inputs: sha };
  }

  /** The size of the dataset a DataSpec source names (the CLI's "all inputs" when --count is not given). */
  sizeOf(spec: { source: string } | { inputs: string }): number {
    return 'source' in spec ? openDataset(spec.source).size : this.datasets.get(spec.inputs)!.size;
  }

  /** --original and --cache (default: beside the certificate); returns the certificate, the request's `original` is its id. */
  addOriginal(path: string, cachePath?: string): Certificate {
    const certificate = readCertificate(path);
    this.originals.set(certificate.id, { certificate, cachePath: cachePath ?? cachePathFor(path) });
    return certificate;
  }

  /** recertify, tune: --data, where the original's inputs moved (default: its data.source). */
  moveOriginalData(data: string | undefined, labels?: string): void {
    this.originalData = { data, labels };
  }

  /** --calibration: a bundled dataset or a .npy file; returns the request's CalibrationSpec source. */
  async addCalibration(source: string): Promise<CalibrationSpec['source']> {
    if (BUNDLED.has(source)) return source as CalibrationSpec['source'];
    const ds = openDataset(source);
    const sha = await sha256Hex(readBytes(source, 'calibration inputs'));
    this.datasets.set(sha, ds);
    return `inputs:${sha}`;
  }

  async model(sha256: string) {
    const m = this.models.get(sha256);
    if (!m) throw new NotFound(`model: ${sha256} is not a model file given`);
    return { ref: m.ref, bytes: async () => m.bytes };
  }

  async inputs(spec: DataSpec): Promise<JobInputs> {
    const ds = 'source' in spec ? openDataset(spec.source) : this.stored(spec.inputs);
    return selectInputs(ds, spec.count, spec.skip, spec.offset);
  }

  async certificate(id: string): Promise<Certificate> {
    const o = this.originals.get(id);
    if (!o) throw new NotFound(`original: certificate ${id} is not a certificate file given`);
    return o.certificate;
  }

  async originalInputs(original: Certificate): Promise<JobInputs> {
    return jobInputs(openDataset(this.originalData?.data ?? original.data.source, this.originalData?.labels), original.data.indices);
  }

  async cache(original: Certificate): Promise<Uint8Array | undefined> {
    const path = this.originals.get(original.id)!.cachePath;
    // None there: planJob refuses as the store does (the cache is missing); anything else unreadable says why.
    return existsSync(path) ? readBytes(path, 'IRS cache') : undefined;
  }

  async calibration({ source, count }: CalibrationSpec): Promise<CalibrationSet> {
    // Labelled as the user named it (the path of a .npy), as the compressed model's metadata records.
    return calibrationSet(source.startsWith('inputs:') ? this.stored(source.slice('inputs:'.length)) : openDataset(source), count);
  }

  private stored(sha: string): Dataset {
    const ds = this.datasets.get(sha);
    if (!ds) throw new NotFound(`data.inputs: ${sha} is not an inputs file given`);
    return ds;
  }
}
