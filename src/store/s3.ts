/**
 * An ObjectStore on an S3-compatible server (AWS S3, R2's S3 API, Swift s3api, s3rver) through
 * @aws-sdk/client-s3. Bodies are whole Uint8Arrays, never streams.
 *
 * Checksums are only computed when an operation requires them: with the SDK's default ("when
 * supported") a body may be sent aws-chunked, which s3rver stores with the chunk framing in it (silent
 * corruption) and Swift's s3api refuses with NotImplemented.
 *
 * Conditional writes (PUT with If-None-Match: *), which putIfAbsent relies on to be race-free:
 * - honoured by AWS S3 (since 2024-08): a PUT onto an existing key gets 412 (409 under a concurrent one);
 * - R2's S3 endpoint: not tried here (R2Store uses the binding's onlyIf, which is atomic);
 * - refused by Swift 2.30's s3api: 501 NotImplemented "Conditional object PUTs are not supported";
 * - ignored by s3rver 3.7.1: it overwrites.
 * putIfAbsent therefore HEADs first, which makes it correct for a single writer everywhere, and after
 * a 501 it stops sending the condition. On a server without conditional writes, two writers racing
 * between their HEAD and PUT can both "win", and the later body is kept; for content-addressed keys
 * (same key, same bytes) that race is harmless.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { byKey, checkKey, checkPrefix, isValidKey, StoreError, type ObjectInfo, type ObjectStore, type PutOptions } from './types.ts';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ('runs' or 'runs/'); the store's keys are relative to it. */
  prefix?: string;
  /** e.g. http://127.0.0.1:9000 for a local server; omitted for AWS. */
  endpoint?: string;
  /** Default us-east-1. */
  region?: string;
  /** Bucket in the path instead of the host name; needed by most local servers. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Page size for list (S3 caps it at 1000); smaller values exercise pagination in tests. */
  maxKeys?: number;
  /** SDK attempts per operation, retries included (SDK default 3). */
  maxAttempts?: number;
}

const CONDITIONAL_RETRIES = 3;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
const RETRYABLE_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalError']);

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export class S3Store implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly maxKeys: number | undefined;
  /** Cleared once the server answers a conditional PUT with 501 (Swift). */
  private conditionalWrites = true;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix ? `${checkKey(prefix)}/` : '';
    this.maxKeys = options.maxKeys;
    this.description = `s3://${this.bucket}/${this.prefix}${options.endpoint ? ` at ${safeEndpoint(options.endpoint)}` : ''}`;
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      maxAttempts: options.maxAttempts,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.key(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      // No response checksums are validated, so at least catch a connection cut short.
      if (out.ContentLength !== undefined && bytes.length !== out.ContentLength) {
        throw new StoreError(`${this.description}: get ${key}: got ${bytes.length} of ${out.ContentLength} bytes`, { retryable: true });
      }
      return bytes;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.error('get', key, e);
    }
  }

  async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
    const Key = this.key(key);
    try {
      await this.client.send(new PutObjectCommand(this.putInput(Key, body, options)));
    } catch (e) {
      throw this.error('put', key, e);
    }
  }

  async putIfAbsent(key: string, body: Uint8Array, options?: PutOptions): Promise<boolean> {
    const Key = this.key(key);
    for (let attempt = 1; ; attempt++) {
      // See the header comment: the HEAD is what makes servers without conditional writes correct for one writer.
      if (await this.head(key)) return false;
      const input = this.putInput(Key, body, options);
      try {
        await this.client.send(new PutObjectCommand(this.conditionalWrites ? { ...input, IfNoneMatch: '*' } : input));
        return true;
      } catch (e) {
        const { name, $metadata } = e as SdkError;
        const status = $metadata?.httpStatusCode;
        if (status === 412 || name === 'PreconditionFailed') return false;
        if (this.conditionalWrites && (status === 501 || name === 'NotImplemented')) {
          this.conditionalWrites = false;
          continue;
        }
        // 409 ConditionalRequestConflict: AWS saw a concurrent conditional write to the key; look again.
        if (status === 409 && attempt < CONDITIONAL_RETRIES) continue;
        throw this.error('putIfAbsent', key, e);
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.key(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: out.ContentLength ?? 0, etag: unquote(out.ETag) };
    } catch (e) {
      // A HEAD answer has no body, so a missing bucket looks like a missing key here; get and put tell them apart.
      if (isNotFound(e)) return undefined;
      throw this.error('head', key, e);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token, MaxKeys: this.maxKeys }),
        );
      } catch (e) {
        throw this.error('list', prefix, e);
      }
      for (const o of page.Contents ?? []) {
        const key = o.Key?.slice(this.prefix.length);
        // Objects other tools wrote under names that are not valid keys could not be read back through this interface.
        if (key && isValidKey(key)) out.push({ key, size: o.Size ?? 0, etag: unquote(o.ETag) });
      }
      if (page.IsTruncated && !page.NextContinuationToken) {
        throw new StoreError(`${this.description}: list ${prefix}: truncated page without a continuation token`, { retryable: false });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // S3 lists in byte order already; sorting again costs little and covers servers that do not.
    return out.sort(byKey);
  }

  async delete(key: string): Promise<void> {
    const Key = this.key(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (isNotFound(e)) return;
      throw this.error('delete', key, e);
    }
  }

  /** Closes the client's pooled connections. */
  close(): void {
    this.client.destroy();
  }

  private key(key: string): string {
    return this.prefix + checkKey(key);
  }

  private putInput(Key: string, body: Uint8Array, options?: PutOptions) {
    return { Bucket: this.bucket, Key, Body: body, ContentLength: body.length, ContentType: options?.contentType };
  }

  private error(op: string, key: string, e: unknown): StoreError {
    if (e instanceof StoreError) return e;
    const err = (e ?? {}) as SdkError;
    const name = err.name ?? 'Error';
    const status = err.$metadata?.httpStatusCode;
    const where = `${this.description}: ${op} ${key}`;
    const http = status ? `, HTTP ${status}` : '';
    // Messages for credential failures are written here rather than passed on, so nothing the server echoes ends up in logs.
    switch (name) {
      case 'SignatureDoesNotMatch':
        return new StoreError(`${where}: the request signature does not match (SignatureDoesNotMatch): wrong secret access key, or (Swift) unknown access key?`, { retryable: false, cause: e });
      case 'InvalidAccessKeyId':
        return new StoreError(`${where}: the access key id is not known to the server (InvalidAccessKeyId)`, { retryable: false, cause: e });
      case 'ExpiredToken':
      case 'InvalidToken':
        return new StoreError(`${where}: the session token is expired or invalid (${name})`, { retryable: false, cause: e });
      case 'CredentialsProviderError':
        return new StoreError(`${where}: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`, { retryable: false, cause: e });
      case 'NoSuchBucket':
        return new StoreError(`${where}: bucket ${this.bucket} does not exist (NoSuchBucket)`, { retryable: false, cause: e });
    }
    if (status === 401 || status === 403) {
      return new StoreError(`${where}: access denied (${name}${http}): check the credentials and the bucket's permissions`, { retryable: false, cause: e });
    }
    const network = NETWORK_CODES.has(err.code ?? '') || (name === 'TypeError' && /fetch|network|connect/i.test(err.message ?? ''));
    const retryable = network || RETRYABLE_NAMES.has(name) || Boolean(err.$retryable) || (status !== undefined && (status >= 500 || status === 429));
    const detail = (err.message ?? '').slice(0, 300);
    return new StoreError(`${where} failed (${err.code ?? name}${http})${detail ? `: ${detail}` : ''}`, { retryable, cause: e });
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as SdkError;
  // Not NoSuchBucket: a missing bucket is a configuration error, not a missing object.
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || (err?.$metadata?.httpStatusCode === 404 && err?.name !== 'NoSuchBucket');
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

/** The endpoint without any user:password@ part. */
export function safeEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint)';
  }
}
