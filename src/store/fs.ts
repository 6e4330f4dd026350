/**
 * An ObjectStore in a local directory: key 'a/b/c' is the file <root>/a/b/c.
 *
 * Writes go to a temp file in the destination's directory and are then renamed (put) or hard-linked
 * (putIfAbsent) into place. Both are atomic within one file system: readers see the old file or the
 * whole new one, and link() fails with EEXIST when the key exists, so concurrent putIfAbsent calls,
 * in this process or others, get exactly one winner. The file is fsynced before it is published so a
 * crash cannot publish an empty or partial object; a crash can leave a temp file, whose name contains
 * '~' (never valid in a key), so it is never listed or read.
 *
 * A file system cannot hold both a key 'a' and keys under 'a/' (S3 can); writing one while the other
 * exists fails with a non-retryable StoreError.
 */
import { link, lstat, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { byKey, checkKey, checkPrefix, StoreError, type ObjectInfo, type ObjectStore, type PutOptions } from './types.ts';

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const RETRYABLE = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ETIMEDOUT']);

export class FileStore implements ObjectStore {
  readonly description: string;
  private readonly root: string;

  constructor(rootDir: string) {
    // Resolved now so a later chdir does not move the store.
    this.root = resolve(rootDir);
    this.description = `file:${rootDir}`;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const path = this.path(key);
    try {
      const buf = await readFile(path);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (isAbsent(e)) return undefined;
      throw this.error('read', key, e);
    }
  }

  // A file keeps no content type, so PutOptions are accepted and ignored.
  async put(key: string, body: Uint8Array, _options?: PutOptions): Promise<void> {
    const dest = this.path(key);
    const tmp = await this.writeTemp(key, dest, body);
    try {
      await rename(tmp, dest);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      if (code(e) === 'EISDIR' || code(e) === 'ENOTEMPTY' || code(e) === 'EEXIST') throw this.conflict(key);
      throw this.error('write', key, e);
    }
  }

  async putIfAbsent(key: string, body: Uint8Array, _options?: PutOptions): Promise<boolean> {
    const dest = this.path(key);
    // Not needed for correctness (link decides), but idempotent re-writes then cost no write and fsync.
    if (await this.head(key)) return false;
    const tmp = await this.writeTemp(key, dest, body);
    try {
      await link(tmp, dest);
      return true;
    } catch (e) {
      if (code(e) !== 'EEXIST') throw this.error('write', key, e);
      // EEXIST is also what a directory in the way gives; that is a conflict, not an existing object.
      const existing = await lstat(dest).catch(() => undefined);
      if (existing?.isDirectory()) throw this.conflict(key);
      return false;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.path(key);
    try {
      const st = await stat(path);
      return st.isFile() ? info(key, st) : undefined;
    } catch (e) {
      if (isAbsent(e)) return undefined;
      throw this.error('stat', key, e);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    // Walk only the deepest directory the prefix fully names.
    const dirSegments = prefix.split('/').slice(0, -1);
    const out: ObjectInfo[] = [];
    await this.walk(join(this.root, ...dirSegments), dirSegments.map((s) => `${s}/`).join(''), prefix, out);
    return out.sort(byKey);
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    try {
      await unlink(path);
    } catch (e) {
      // A directory at the path means no object there (keys under it exist instead).
      if (isAbsent(e) || (code(e) === 'EPERM' && (await lstat(path).catch(() => undefined))?.isDirectory())) return;
      throw this.error('delete', key, e);
    }
  }

  private path(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  private async writeTemp(key: string, dest: string, body: Uint8Array): Promise<string> {
    const dir = dirname(dest);
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      if (code(e) === 'EEXIST' || code(e) === 'ENOTDIR') throw this.conflict(key);
      throw this.error('write', key, e);
    }
    // A short fixed-length name: a long key segment must not push the temp name past NAME_MAX.
    const tmp = join(dir, `.irs-tmp~${randomBytes(8).toString('hex')}`);
    let fh;
    try {
      fh = await open(tmp, 'wx');
      await fh.writeFile(body);
      await fh.datasync();
      await fh.close();
      return tmp;
    } catch (e) {
      await fh?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw this.error('write', key, e);
    }
  }

  private async walk(dir: string, keyDir: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isAbsent(e)) return;
      throw this.error('list', keyDir || prefix, e);
    }
    await Promise.all(
      entries.map(async (entry) => {
        // Temp files and anything else that is not a valid key segment are not objects.
        if (!SEGMENT.test(entry.name) || entry.name === '.' || entry.name === '..') return;
        const key = keyDir + entry.name;
        const path = join(dir, entry.name);
        let isDir = entry.isDirectory();
        let st: Stats | undefined;
        if (entry.isSymbolicLink()) {
          st = await stat(path).catch(() => undefined);
          if (!st) return;
          isDir = st.isDirectory();
        }
        if (isDir) {
          const sub = `${key}/`;
          if (sub.startsWith(prefix) || prefix.startsWith(sub)) await this.walk(path, sub, prefix, out);
        } else if ((st ? st.isFile() : entry.isFile()) && key.startsWith(prefix)) {
          // Deleted between readdir and stat: not listed.
          st ??= await stat(path).catch(() => undefined);
          if (st) out.push(info(key, st));
        }
      }),
    );
  }

  private conflict(key: string): StoreError {
    return new StoreError(
      `${this.description}: cannot write ${key}: a file system cannot hold both a key and keys under it as a directory`,
      { retryable: false },
    );
  }

  private error(op: string, key: string, e: unknown): StoreError {
    const c = code(e) ?? (e instanceof Error ? e.message : String(e));
    return new StoreError(`${this.description}: cannot ${op} ${key}: ${c}`, { retryable: RETRYABLE.has(c), cause: e });
  }
}

function info(key: string, st: Stats): ObjectInfo {
  // Size and mtime, like a web server's weak validator: changes whenever the file is replaced.
  return { key, size: st.size, etag: `${st.size.toString(16)}-${Math.round(st.mtimeMs * 1000).toString(16)}` };
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * ENOTDIR: a path component is a file; EISDIR: the key names a directory; ENAMETOOLONG: a segment is
 * longer than the file system allows, so nothing can have been stored there. Either way, no object.
 */
function isAbsent(e: unknown): boolean {
  const c = code(e);
  return c === 'ENOENT' || c === 'ENOTDIR' || c === 'EISDIR' || c === 'ENAMETOOLONG';
}
