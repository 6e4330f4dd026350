/**
 * irs-edge as a library: the statistics, noise, smoothing algorithms, jobs and compression
 * that the CLI and the HTTP functions are made of. (`irs-edge/client` is the HTTP client.)
 */
export { clopperPearsonLower, clopperPearsonUpper, normalQuantile, binomialTestTwoSided, certifiedRadius, MIN_ALPHA, ALPHA_FLOOR } from './stats/index.ts';
export { philox4x32 } from './noise/philox.ts';
export { fillGaussianNoise, NOISE_SCHEME, Stream } from './noise/gaussian.ts';
export { certify, predict, ABSTAIN, type CertifyParams, type CertifiedInput, type PredictParams } from './smoothing/certify.ts';
export { recertify, recertifyMany, chooseBranch, branchLevels, type IrsParams, type CachedInput, type RecertifiedInput, type CandidateControl, type Decision } from './smoothing/irs.ts';
export { guaranteeFor, CAVEATS, type Guarantee } from './smoothing/guarantee.ts';
export { doublingStages, SequentialTracker, type SequentialOptions, type StopRule, type StagePlan } from './smoothing/sequential.ts';
export { localSampler, localMultiSampler, type Sampler, type MultiSampler } from './smoothing/stream.ts';
export { runShard, type ShardSpec } from './smoothing/sampler.ts';
export { ShardMerger } from './smoothing/merge.ts';
export { certifiedAccuracy, averageCertifiedRadius } from './smoothing/metrics.ts';
export { loadClassifier, type Classifier, type BackendName } from './inference/index.ts';
export { BACKEND_NAMES, ONNX_BACKENDS, registerBackend, type Backend, type BackendChoice } from './inference/backend.ts';
export { LinearClassifier } from './inference/linear.ts';
export { checkBatchInvariance, makeProbes } from './inference/batch-invariance.ts';
export { runCertifyJob } from './jobs/certify-job.ts';
export { runRecertifyJob, runRecertifyCandidates } from './jobs/recertify-job.ts';
export { runTuneJob, parseCandidates, type TuneJob, type TuneResult } from './jobs/tune-job.ts';
export { compressModel, METHODS, type Method } from './onnx/compress/index.ts';
export { evaluateGate, parseAccuracyFloor } from './report/gate.ts';
export type { Certificate, CertificateOf, InputResult } from './protocol/certificate.ts';
