/**
 * NumPy .npy files (format versions 1–3, C order, little-endian numeric dtypes): users bring
 * their own inputs as float32 `[N, ...input shape]` and integer labels `[N]`. Pure: usable on
 * every runtime (the file-reading side is data/npy.ts).
 */
import { elementCount } from '../data/dataset.ts';
import { UserError } from '../errors.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyArray {
  dtype: string;
  shape: number[];
  /** The values as doubles (integers up to 2^53 exact). */
  values: Float64Array | Float32Array;
}

type Reader = (view: DataView, offset: number) => number;
const READERS: Record<string, [number, Reader]> = {
  '<f4': [4, (v, o) => v.getFloat32(o, true)],
  '<f8': [8, (v, o) => v.getFloat64(o, true)],
  '|u1': [1, (v, o) => v.getUint8(o)],
  '|i1': [1, (v, o) => v.getInt8(o)],
  '<u2': [2, (v, o) => v.getUint16(o, true)],
  '<i2': [2, (v, o) => v.getInt16(o, true)],
  '<u4': [4, (v, o) => v.getUint32(o, true)],
  '<i4': [4, (v, o) => v.getInt32(o, true)],
  '<i8': [8, (v, o) => Number(v.getBigInt64(o, true))],
  '<u8': [8, (v, o) => Number(v.getBigUint64(o, true))],
};

export function parseNpy(bytes: Uint8Array, what: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new UserError(`${what}: not a NumPy .npy file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new UserError(`${what}: unsupported .npy format version ${major}`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.length) throw new UserError(`${what}: truncated .npy header`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new UserError(`${what}: malformed .npy header`);
  if (fortran === 'True') throw new UserError(`${what}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const reader = READERS[descr === '<f4' || descr === '=f4' ? '<f4' : descr];
  if (!reader) throw new UserError(`${what}: unsupported dtype ${descr} (use float32 inputs and integer labels)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new UserError(`${what}: malformed shape (${shapeText})`);
  const count = elementCount(shape);
  const dataStart = headerStart + headerLen;
  const [width, read] = reader;
  if (bytes.length - dataStart !== count * width) {
    throw new UserError(`${what}: expected ${count * width} data bytes for shape (${shape.join(', ')}), found ${bytes.length - dataStart}`);
  }
  const values = descr === '<f4' ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = read(view, dataStart + i * width);
  return { dtype: descr, shape, values };
}

/** Serializes a float32 or int64 array as .npy (version 1.0): used for tests and exports. */
export function encodeNpy(values: ArrayLike<number>, shape: number[], dtype: '<f4' | '<i8'): Uint8Array {
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const width = dtype === '<f4' ? 4 : 8;
  const out = new Uint8Array(10 + header.length + values.length * width);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  for (let i = 0; i < values.length; i++) {
    if (dtype === '<f4') view.setFloat32(start + 4 * i, values[i], true);
    else view.setBigInt64(start + 8 * i, BigInt(values[i]), true);
  }
  return out;
}

