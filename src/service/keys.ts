/**
 * Where everything lives in object storage. Every key is under the tenant's prefix, so a
 * tenant can only ever reach its own models, inputs, jobs and certificates.
 */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const keys = {
  model: (tenant: string, sha256: string) => `tenants/${tenant}/models/${sha256}.onnx`,
  inputs: (tenant: string, sha256: string) => `tenants/${tenant}/inputs/${sha256}.npy`,
  certificate: (tenant: string, id: string) => `tenants/${tenant}/certificates/${id}.json`,
  cache: (tenant: string, id: string) => `tenants/${tenant}/certificates/${id}.cache`,
  job: (tenant: string, id: string) => `tenants/${tenant}/jobs/${id}.json`,
  jobs: (tenant: string) => `tenants/${tenant}/jobs/`,
  shardResult: (tenant: string, job: string, shard: string) => `tenants/${tenant}/jobs/${job}/shards/${shard}.json`,
  tenants: () => 'tenants/',
};
