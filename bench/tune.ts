/**
 * How long `irs tune` takes to choose, on the bundled models: the original certification is
 * done first and not timed (tuning starts from it); the timed part compresses the candidates,
 * recertifies them in one decision-mode pass and picks the smallest that meets the target.
 * For comparison, the full (fixed n_p) recertification of every candidate on its own.
 *
 *   npm run bench -- tune [--sigmas 0.25,0.5,1.0] [--count 500] [--radius 0.5] [--drop 0.02] [--np 1000]
 *
 * The target is f's certified accuracy at the radius less `drop`.
 */
import { parseArgs } from 'node:util';
import { defaultFastBackend } from '../src/inference/index.ts';
import { runTuneJob, parseCandidates } from '../src/jobs/tune-job.ts';
import { runRecertifyJob } from '../src/jobs/recertify-job.ts';
import { certifiedAccuracy } from '../src/smoothing/metrics.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { approximation, certifyOriginal, mnistSubset } from './study.ts';

const { values } = parseArgs({
  options: {
    sigmas: { type: 'string', default: '0.25,0.5,1.0' },
    count: { type: 'string', default: '500' },
    radius: { type: 'string', default: '0.5' },
    drop: { type: 'string', default: '0.02' },
    np: { type: 'string', default: '1000' },
    candidates: { type: 'string', default: 'int8,fp16,prune:0.05,prune:0.1,prune:0.2,prune:0.3' },
  },
});
const backend = await defaultFastBackend();
const data = mnistSubset(Number(values.count));
const R = Number(values.radius);
const np = Number(values.np);
const train = loadMnist('train');
const calibration = { source: 'mnist:train', inputs: Array.from({ length: 512 }, (_, i) => train.input(i)) };

console.log(`${data.inputs.length} MNIST test images, original n = 10,000, candidates ${values.candidates}, cap n_p = ${np}, target: f's certified accuracy at r = ${R} less ${values.drop}, backend ${backend}\n`);
console.log('| sigma | target | choice | tune: wall time | tune: f^p samples | outcomes (smallest first) | full recertification of every candidate: wall time | f^p samples | its choice |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const sigma of values.sigmas!.split(',').map(Number)) {
  const { bytes, certificate: original, cache } = await certifyOriginal('small', sigma, 10_000, data, backend);
  const target = { radius: R, accuracy: certifiedAccuracy(original.results, R) - Number(values.drop) };
  let t = performance.now();
  const result = await runTuneJob({
    modelBytes: bytes, original, cacheBytes: cache, data, candidates: parseCandidates(values.candidates!), target,
    np, alphaZeta: 0.001, gamma: 0.99, batchSize: 500, backend, calibration,
  });
  const tuneSeconds = (performance.now() - t) / 1000;
  const tuneSamples = result.candidates.reduce((s, c) => s + c.samples, 0);

  // The same question answered the slow way: every candidate certified with fixed n_p.
  t = performance.now();
  let fullSamples = 0;
  let fullChoice = 'none';
  for (const c of result.candidates) {
    const { model, classifier } = await approximation(bytes, c.candidate, sigma, backend);
    const cert = await runRecertifyJob({ classifier, model, data, original, cacheBytes: cache, np, alphaZeta: 0.001, gamma: 0.99, batchSize: 500 });
    await classifier.dispose();
    fullSamples += cert.summary.samples;
    if (fullChoice === 'none' && certifiedAccuracy(cert.results, R) >= target.accuracy) fullChoice = c.candidate;
  }
  const fullSeconds = (performance.now() - t) / 1000;
  const outcomes = result.candidates.map((c) => `${c.candidate} ${c.outcome} ${(100 * c.certifiedAccuracy).toFixed(1)}%`).join('; ');
  console.log(`| ${sigma} | ${(100 * target.accuracy).toFixed(1)}% | ${result.choice?.candidate ?? 'none'} | ${tuneSeconds.toFixed(1)} s | ${tuneSamples.toLocaleString('en-US')} | ${outcomes} | ${fullSeconds.toFixed(1)} s | ${fullSamples.toLocaleString('en-US')} | ${fullChoice} |`);
}
