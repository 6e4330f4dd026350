/**
 * Store URLs, as given to the CLI and the functions' configuration:
 *   file:./irs-data, file:/abs/dir, file:///abs/dir   a local directory (Node only)
 *   memory:                                          a fresh, empty in-process store
 *   s3://bucket[/prefix][?endpoint=URL&region=R&path-style=true|false]
 * S3 credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; with neither
 * key set, the SDK's default provider chain is used. The region defaults to AWS_REGION, then us-east-1.
 */
import { UserError } from '../errors.ts';
import { MemoryStore } from './memory.ts';
import { isValidKey, type ObjectStore } from './types.ts';

export const STORE_URL_FORMS = 'file:./dir, file:/abs/dir, memory:, s3://bucket[/prefix][?endpoint=http://host:port&region=us-east-1&path-style=true]';

type Env = Record<string, string | undefined>;

const S3_PARAMS = new Set(['endpoint', 'region', 'path-style']);
// AWS's rule for new buckets; Swift s3api and R2 apply the same one by default.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export async function openStore(url: string, env: Env = processEnv()): Promise<ObjectStore> {
  const bad = (why: string) => new UserError(`invalid store URL ${JSON.stringify(redact(url))}: ${why}. Accepted forms: ${STORE_URL_FORMS}`);
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (!match) throw bad('no scheme');
  const scheme = match[1].toLowerCase();
  const rest = url.slice(match[0].length);
  switch (scheme) {
    case 'memory':
      if (rest !== '' && rest !== '//') throw bad('memory: takes nothing after the colon');
      return new MemoryStore();
    case 'file': {
      const dir = rest.startsWith('//') ? fileUrlPath(url, bad) : rest;
      if (!dir) throw bad('no directory after file:');
      // Imported lazily so runtimes without node:fs (Workers) can use the other stores.
      const { FileStore } = await import('./fs.ts');
      return new FileStore(dir);
    }
    case 's3':
      return openS3(url, env, bad);
    default:
      throw bad(`unknown scheme ${scheme}:`);
  }
}

function fileUrlPath(url: string, bad: (why: string) => UserError): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('malformed file URL');
  }
  if (u.host !== '' && u.host !== 'localhost') throw bad('a file URL must name a local directory (file:///abs/dir)');
  return decodeURIComponent(u.pathname);
}

async function openS3(url: string, env: Env, bad: (why: string) => UserError): Promise<ObjectStore> {
  if (!url.startsWith('s3://')) throw bad('expected s3://bucket');
  // Checked before URL parsing, which would quietly resolve '..' and '.' (and %2e%2e) away.
  const rawPath = url.slice('s3://'.length).split(/[?#]/)[0].split('/').slice(1);
  if (rawPath.some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) throw bad("the prefix may not contain '.' or '..' segments");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('malformed URL');
  }
  if (u.username || u.password) throw bad('credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  if (u.port || u.hash) throw bad('an s3 URL has no port or #fragment; give a server as ?endpoint=');
  const bucket = u.hostname;
  if (!BUCKET.test(bucket)) throw bad(`bucket name ${JSON.stringify(bucket)} must be 3-63 characters of a-z 0-9 . -`);
  let prefix: string;
  try {
    prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  } catch {
    throw bad('malformed prefix');
  }
  if (prefix && !isValidKey(prefix)) throw bad(`prefix ${JSON.stringify(prefix)} must be a valid key (letters, digits, . _ - /)`);

  for (const name of u.searchParams.keys()) if (!S3_PARAMS.has(name)) throw bad(`unknown parameter ${name}`);
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined) {
    let e: URL | undefined;
    try {
      e = new URL(endpoint);
    } catch {}
    if (!e || (e.protocol !== 'http:' && e.protocol !== 'https:')) throw bad('endpoint must be an http:// or https:// URL');
    if (e.username || e.password) throw bad('credentials do not belong in the endpoint; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
  const pathStyleParam = u.searchParams.get('path-style');
  let forcePathStyle: boolean;
  if (pathStyleParam === null) {
    // Local and self-hosted servers rarely have per-bucket host names; AWS wants virtual hosts.
    forcePathStyle = endpoint !== undefined;
  } else if (['true', '1', ''].includes(pathStyleParam)) {
    forcePathStyle = true;
  } else if (['false', '0'].includes(pathStyleParam)) {
    forcePathStyle = false;
  } else {
    throw bad('path-style must be true or false');
  }
  const region = u.searchParams.get('region') || env.AWS_REGION || 'us-east-1';

  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new UserError('set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (to use the default credential chain)');
  }
  const credentials = accessKeyId && secretAccessKey
    ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined }
    : undefined;

  // Imported lazily: the SDK is large, and only S3 URLs need it.
  const { S3Store } = await import('./s3.ts');
  return new S3Store({ bucket, prefix, endpoint, region, forcePathStyle, credentials });
}

/** The URL with any user:password@ parts (its own or the endpoint's) masked, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/|%2F%2F)[^/?#&]*(@|%40)/gi, '$1***$2');
}

function processEnv(): Env {
  return (globalThis as { process?: { env?: Env } }).process?.env ?? {};
}
