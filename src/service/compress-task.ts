/**
 * A tune candidate compressed by a consumer (the Workers queue), not by the job's driver: the
 * same compression the in-process tune runs (jobs/tune-job.ts compressCandidate), the model
 * stored as a model, then checked on the job's inputs (inputs fit, batch invariance) as the
 * in-process tune checks each candidate before it samples it.
 */
import type { ObjectStore } from '../store/types.ts';
import type { CalibrationSpec, CompressResult, CompressTask } from '../protocol/schemas.ts';
import type { CalibrationSet } from '../jobs/plan.ts';
import { compressCandidate } from '../jobs/tune-job.ts';
import { preflight } from '../jobs/common.ts';
import type { BackendName } from '../inference/classifier.ts';
import { keys } from './keys.ts';
import { readModel, type ClassifierCache } from './models.ts';
import type { InputsCache } from './shard.ts';

export async function executeCompression(
  store: ObjectStore, classifiers: ClassifierCache, inputsCache: InputsCache, tenant: string, task: CompressTask,
  o: { backend: BackendName; calibration: (spec: CalibrationSpec) => Promise<CalibrationSet> },
): Promise<CompressResult> {
  // The same calibration set the submission resolved (jobs/plan.ts), from the same sources.
  const calibration = task.calibration ? { ...(await o.calibration(task.calibration)), sigma: task.calibration.sigma } : undefined;
  const source = await readModel(store, tenant, task.model);
  const c = await compressCandidate(source, { method: task.method, amount: task.amount }, calibration, o.backend);
  await store.putIfAbsent(keys.model(tenant, c.sha256), c.bytes, { contentType: 'application/octet-stream' });
  const file = await inputsCache.get(store, tenant, task.inputs);
  const [size, ...shape] = file.shape;
  const per = shape.reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: size }, (_, i) => Float32Array.from(file.values.subarray(i * per, (i + 1) * per)));
  await preflight(await classifiers.get(store, tenant, c.sha256), { source: `inputs:${task.inputs}`, indices: inputs.map((_, i) => i), inputs, labels: inputs.map(() => -1) }, task.sigma);
  return { name: c.name, sha256: c.sha256, size: c.size, gzip: c.gzip };
}
