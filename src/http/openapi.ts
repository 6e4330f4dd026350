/**
 * The OpenAPI 3.1 document of the functions, generated from the zod schemas that validate the
 * requests, served at GET /v1/openapi.json (http/app.ts). ROUTES is the list the tests hold against the app's
 * real routes, so an undocumented route fails the suite.
 */
import { z } from 'zod';
import { TOOL } from '../version.ts';
import { CompressRequest, JobRequest, ShardRequest, ShardResponse } from '../protocol/schemas.ts';

type Method = 'get' | 'post';

interface RouteDoc {
  method: Method;
  path: string;
  summary: string;
  auth: boolean;
  request?: { schema?: string; contentType: string };
  responses: Record<string, string>;
  parameters?: string[];
}

export const ROUTES: RouteDoc[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness, tool version and inference backend', auth: false, responses: { 200: 'healthy' } },
  { method: 'get', path: '/v1/openapi.json', summary: 'This document', auth: true, responses: { 200: 'OpenAPI 3.1 document' } },
  { method: 'post', path: '/v1/models', summary: 'Upload an ONNX model; stored by the sha256 of its bytes', auth: true, request: { contentType: 'application/octet-stream' }, responses: { 200: 'already stored', 201: 'stored', 400: 'not an ONNX model', 413: 'too large' } },
  { method: 'get', path: '/v1/models/{sha}', summary: "A stored model's size", auth: true, parameters: ['sha'], responses: { 200: 'found', 404: 'no such model' } },
  { method: 'post', path: '/v1/models/{sha}/compress', summary: 'Store a compressed variant (int8, fp16, fp16-native, prune)', auth: true, parameters: ['sha'], request: { schema: 'CompressRequest', contentType: 'application/json' }, responses: { 201: 'compression report, with the variant sha256', 400: 'bad request', 404: 'no such model' } },
  { method: 'post', path: '/v1/inputs', summary: 'Upload inputs as .npy (float32 [N, ...shape]); stored by sha256', auth: true, request: { contentType: 'application/octet-stream' }, responses: { 200: 'already stored', 201: 'stored', 400: 'not a float .npy' } },
  { method: 'post', path: '/v1/shards', summary: 'Compute one shard: a sample range of one noise stream for a few inputs', auth: true, request: { schema: 'ShardRequest', contentType: 'application/json' }, responses: { 200: 'ShardResponse', 400: 'bad request', 404: 'unknown model or inputs', 429: 'busy: retry later' } },
  { method: 'post', path: '/v1/jobs', summary: 'Start a certify, recertify (IRS; fixed, adaptive or decision mode), baseline or tune job', auth: true, request: { schema: 'JobRequest', contentType: 'application/json' }, responses: { 200: 'the same job already exists', 202: 'started', 400: 'bad request', 404: 'unknown model or original certificate', 409: "the original's cache is missing or not its own, or the original does not hold together (its id or cache header)" } },
  { method: 'get', path: '/v1/jobs/{id}', summary: 'Job status, progress (samples done / total, ETA), certificate link, and for tune jobs every candidate and the choice', auth: true, parameters: ['id'], responses: { 200: 'the job', 404: 'no such job' } },
  { method: 'get', path: '/', summary: 'The console: a single-page UI over this API (HTML; the page asks for a token)', auth: false, responses: { 200: 'HTML page' } },
  { method: 'get', path: '/v1/jobs', summary: "The tenant's jobs, newest first, with status and progress (?limit=, default 100)", auth: true, responses: { 200: '{ jobs: [...] }' } },
  { method: 'get', path: '/v1/models', summary: "The tenant's stored models (sha256, bytes)", auth: true, responses: { 200: '{ models: [...] }' } },
  { method: 'get', path: '/v1/inputs', summary: "The tenant's uploaded inputs files (sha256, bytes)", auth: true, responses: { 200: '{ inputs: [...] }' } },
  { method: 'get', path: '/v1/certificates', summary: "The tenant's certificates, newest first: id, kind, model, backend, summary", auth: true, responses: { 200: '{ certificates: [...] }' } },
  { method: 'get', path: '/v1/certificates/{id}/report', summary: 'The HTML report of a certificate (curves, summary table, zeta histogram); ?with=id,id adds others to the plot', auth: true, parameters: ['id'], responses: { 200: 'HTML report', 404: 'no such certificate' } },
  { method: 'get', path: '/v1/certificates/{id}', summary: 'A certificate: JSON, or Cohen TSV with Accept: text/tab-separated-values', auth: true, parameters: ['id'], responses: { 200: 'the certificate', 404: 'no such certificate' } },
];

const SCHEMAS: Record<string, z.ZodType> = { JobRequest, ShardRequest, ShardResponse, CompressRequest };

export function openApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
  };
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    schemas[name] = json;
  }
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const responses: Record<string, unknown> = {};
    for (const [code, description] of Object.entries(r.responses)) {
      responses[code] = Number(code) >= 400
        ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
        : { description, ...(description === 'ShardResponse' ? { content: { 'application/json': { schema: { $ref: '#/components/schemas/ShardResponse' } } } } : {}) };
    }
    if (r.auth) responses['401'] = { description: 'missing or invalid bearer token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    paths[r.path] ??= {};
    paths[r.path][r.method] = {
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').split(/[/.]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('')}`,
      ...(r.auth ? {} : { security: [] }),
      ...(r.parameters ? { parameters: r.parameters.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{32,64}$' } })) } : {}),
      ...(r.request ? {
        requestBody: {
          required: true,
          content: { [r.request.contentType]: { schema: r.request.schema ? { $ref: `#/components/schemas/${r.request.schema}` } : { type: 'string', format: 'binary' } } },
        },
      } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'irs-edge', version: TOOL.version, description: 'Incremental randomized smoothing certification as HTTP functions.' },
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
