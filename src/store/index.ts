/**
 * The object-store layer. FileStore (node:fs) and S3Store (the AWS SDK) are exported as types only,
 * so importing this module pulls neither into a Worker bundle; get instances from openStore, or
 * import the classes from ./fs.ts and ./s3.ts where those dependencies are wanted.
 */
export * from './types.ts';
export { MemoryStore } from './memory.ts';
export { R2Store, type R2BucketLike, type R2ObjectLike } from './r2.ts';
export { openStore, STORE_URL_FORMS } from './url.ts';
export type { FileStore } from './fs.ts';
export type { S3Store, S3StoreOptions } from './s3.ts';
