/** File-system side of the CLI: models, datasets, certificates, caches, TSV. */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { loadMnist } from '../data/mnist.ts';
import { loadNpyDataset } from '../data/npy.ts';
import { selectIndices, type Dataset } from '../data/dataset.ts';
import type { JobInputs } from '../jobs/common.ts';
import type { Certificate, ModelRef } from '../protocol/certificate.ts';
import { CERTIFICATE_FORMAT } from '../protocol/certificate.ts';
import { sha256Hex } from '../util/digest.ts';

export const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../models');

export function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
}

/** A model by path, or by the name of a bundled model (`mnist-small-s0.50`). */
export async function loadModel(spec: string): Promise<{ bytes: Uint8Array; ref: ModelRef }> {
  let path = spec;
  if (!existsSync(path)) {
    const bundled = join(MODELS_DIR, `${spec}.onnx`);
    if (!/[/\\]/.test(spec) && existsSync(bundled)) path = bundled;
  }
  const bytes = readBytes(path, 'model');
  return { bytes, ref: { sha256: await sha256Hex(bytes), bytes: bytes.length, name: basename(path) } };
}

export function openDataset(data: string, labels?: string): Dataset {
  if (data === 'mnist:test') return loadMnist('test');
  if (data === 'mnist:train') return loadMnist('train');
  if (/^[a-z]+:/.test(data) && !existsSync(data)) {
    throw new UserError(`unknown dataset ${data}; use mnist:test, mnist:train or a .npy file`);
  }
  return loadNpyDataset(data, labels);
}

export function jobInputs(ds: Dataset, indices: number[]): JobInputs {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= ds.size) throw new UserError(`index ${i} is outside ${ds.source} (${ds.size} inputs)`);
  }
  return { source: ds.source, indices, inputs: indices.map((i) => ds.input(i)), labels: indices.map((i) => ds.label(i)) };
}

export function selectInputs(ds: Dataset, count: number | undefined, skip: number, offset: number): JobInputs {
  if (offset >= ds.size) throw new UserError(`data.offset: ${offset} is beyond ${ds.source} (${ds.size} inputs)`);
  return jobInputs(ds, selectIndices(ds.size, count ?? ds.size, skip, offset));
}

/** Writes a file atomically: a reader sees the old file or the whole new one, never a part. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** The cache file that goes with a certificate file: cert.json -> cert.cache. */
export function cachePathFor(certPath: string): string {
  return certPath.replace(/\.json$/i, '') + '.cache';
}

export function readCertificate(path: string): Certificate {
  const text = new TextDecoder().decode(readBytes(path, 'certificate'));
  let doc: Certificate;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserError(`${path} is not JSON`);
  }
  if (doc?.format !== CERTIFICATE_FORMAT) throw new UserError(`${path} is not an irs-edge certificate (format ${String(doc?.format)})`);
  return doc;
}

export { certificateTsv, radius3, timedelta } from '../protocol/tsv.ts';
