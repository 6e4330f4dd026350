/**
 * IRS cache size as stored, per input and per sample, against the paper's approach (per-sample
 * int64 predictions and one int64 seed per batch of 100, as the official code keeps them).
 *
 *   npm run bench -- cache-size --certificate cert.json [--cache cert.cache]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeCache } from '../src/protocol/cache-codec.ts';
import type { Certificate } from '../src/protocol/certificate.ts';

const { values } = parseArgs({ options: { certificate: { type: 'string' }, cache: { type: 'string' } } });
if (!values.certificate) {
  console.error('usage: npm run bench -- cache-size --certificate cert.json [--cache cert.cache]');
  process.exit(2);
}
const cert: Certificate = JSON.parse(readFileSync(values.certificate, 'utf8'));
const bytes = readFileSync(values.cache ?? values.certificate.replace(/\.json$/, '.cache'));
const { header, entries } = decodeCache(bytes);
const samples = header.samples;
const inputs = entries.length;
const exceptions = entries.reduce((s, e) => s + e.predictions.reduce((k, p) => k + (p !== e.cA ? 1 : 0), 0), 0);
const paper = inputs * (samples * 8 + Math.ceil(samples / 100) * 8);
console.log(`certificate ${cert.id}: ${inputs} inputs x ${samples} cached samples (sigma ${header.sigma})`);
console.log('| layout | bytes | per input | per sample |');
console.log('|---|---|---|---|');
console.log(`| irs-edge cache (exceptions to cA, varint-coded) | ${bytes.length} | ${(bytes.length / inputs).toFixed(0)} | ${(bytes.length / inputs / samples).toFixed(4)} |`);
console.log(`| paper's code (int64 prediction per sample + int64 seed per 100) | ${paper} | ${(paper / inputs).toFixed(0)} | ${(paper / inputs / samples).toFixed(2)} |`);
console.log(`\nexceptions (samples whose prediction is not cA): ${exceptions} of ${inputs * samples} (${((100 * exceptions) / (inputs * samples)).toFixed(2)}%); ratio ${(paper / bytes.length).toFixed(0)}x smaller`);
