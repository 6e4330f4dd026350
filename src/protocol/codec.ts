/** Per-sample predictions on the wire: int16 little-endian, base64. */
export function encodePredictions(p: Int16Array): string {
  const bytes = new Uint8Array(p.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < p.length; i++) view.setInt16(2 * i, p[i], true);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function decodePredictions(b64: string, expected: number): Int16Array {
  let s: string;
  try {
    s = atob(b64);
  } catch {
    throw new RangeError('predictions are not base64');
  }
  if (s.length !== expected * 2) throw new RangeError(`expected ${expected} predictions, got ${s.length / 2}`);
  const out = new Int16Array(expected);
  for (let i = 0; i < expected; i++) out[i] = (s.charCodeAt(2 * i) | (s.charCodeAt(2 * i + 1) << 8)) << 16 >> 16;
  return out;
}
