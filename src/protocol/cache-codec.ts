/**
 * The IRS cache of an original certification: per input, cA, pA_lower and f's prediction on
 * every estimation sample. Most predictions equal cA, so only the exceptions are stored
 * (delta-coded sample index + class, as unsigned LEB128 varints).
 *
 * Layout: "IRSC" | version u8 | header length u32 LE | header JSON | per input:
 *   varint(cA + 1) | pA_lower f64 LE | varint(#exceptions) | #exceptions x (varint(index delta), varint(class + 1))
 * The file's SHA-256 is recorded in its certificate, which is what binds the two.
 */
import { UserError } from '../errors.ts';

const MAGIC = [0x49, 0x52, 0x53, 0x43]; // IRSC
const VERSION = 1;

export interface CacheHeader {
  certificateId: string;
  modelSha256: string;
  inputsSha256: string;
  sigma: number;
  seed: number;
  noise: string;
  n: number;
  alpha: number;
  /** Predictions stored per input (a prefix of the n estimation samples). */
  samples: number;
  inputs: number;
}

export interface CacheEntry {
  cA: number;
  pALower: number;
  predictions: Int16Array;
}

export function encodeCache(header: CacheHeader, entries: readonly CacheEntry[]): Uint8Array {
  if (entries.length !== header.inputs) throw new RangeError('cache header and entries disagree on the number of inputs');
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new ByteWriter(9 + head.length + entries.length * 16);
  out.bytes(Uint8Array.from(MAGIC));
  out.u8(VERSION);
  out.u32(head.length);
  out.bytes(head);
  for (const e of entries) {
    out.varint(e.cA + 1);
    out.f64(e.pALower);
    const preds = e.predictions.subarray(0, header.samples);
    let exceptions = 0;
    for (const p of preds) if (p !== e.cA) exceptions++;
    out.varint(exceptions);
    let last = 0;
    for (let j = 0; j < preds.length; j++) {
      if (preds[j] !== e.cA) {
        out.varint(j - last);
        out.varint(preds[j] + 1);
        last = j;
      }
    }
  }
  return out.finish();
}

export function decodeCache(bytes: Uint8Array): { header: CacheHeader; entries: CacheEntry[] } {
  const r = new ByteReader(bytes);
  if (bytes.length < 9 || MAGIC.some((b, i) => bytes[i] !== b)) throw new UserError('not an irs-edge cache file');
  r.skip(4);
  const version = r.u8();
  if (version !== VERSION) throw new UserError(`cache format version ${version} is not supported (expected ${VERSION})`);
  let header: CacheHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(r.take(r.u32())));
  } catch {
    throw new UserError('cache file is corrupt: unreadable header');
  }
  const entries: CacheEntry[] = [];
  for (let i = 0; i < header.inputs; i++) {
    const cA = r.varint() - 1;
    const pALower = r.f64();
    const predictions = new Int16Array(header.samples).fill(cA);
    const exceptions = r.varint();
    let j = 0;
    for (let x = 0; x < exceptions; x++) {
      j += r.varint();
      if (j >= header.samples) throw new UserError(`cache file is corrupt: sample index ${j} of input ${i} out of range`);
      predictions[j] = r.varint() - 1;
    }
    entries.push({ cA, pALower, predictions });
  }
  if (!r.done) throw new UserError('cache file is corrupt: trailing bytes');
  return { header, entries };
}

class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private at = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }
  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void { this.ensure(1); this.buf[this.at++] = v; }
  u32(v: number): void { this.ensure(4); this.view.setUint32(this.at, v, true); this.at += 4; }
  f64(v: number): void { this.ensure(8); this.view.setFloat64(this.at, v, true); this.at += 8; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.at); this.at += b.length; }
  varint(v: number): void {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`varint of ${v}`);
    this.ensure(8);
    while (v >= 0x80) { this.buf[this.at++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128); }
    this.buf[this.at++] = v;
  }
  finish(): Uint8Array { return this.buf.slice(0, this.at); }
}

class ByteReader {
  private at = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new UserError('cache file is truncated');
  }
  get done(): boolean { return this.at === this.buf.length; }
  skip(n: number): void { this.need(n); this.at += n; }
  u8(): number { this.need(1); return this.buf[this.at++]; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.at, true); this.at += 4; return v; }
  f64(): number { this.need(8); const v = this.view.getFloat64(this.at, true); this.at += 8; return v; }
  take(n: number): Uint8Array { this.need(n); const b = this.buf.subarray(this.at, this.at + n); this.at += n; return b; }
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 128;
    }
    throw new UserError('cache file is corrupt: varint too long');
  }
}
