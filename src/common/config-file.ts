import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Durable JSON state files (upstream `ConfigManager`): the previous content is kept as
 * `<file>.bak`, the new one is written to a temp file, fsynced and renamed over the old, so a
 * crash leaves either the old or the new file, never a torn one. An empty or corrupt file
 * falls back to the backup on load.
 */
export function writeFileAtomic(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (existsSync(path)) copyFileSync(path, `${path}.bak`);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is done.
  }
}

/** Reads a JSON state file, falling back to its `.bak` when the file is missing, empty or corrupt. */
export function readJsonFile<T>(path: string, onCorrupt?: (msg: string) => void): T | undefined {
  for (const p of [path, `${path}.bak`]) {
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    if (text.trim() === '') continue;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      onCorrupt?.(`${p} is not valid JSON (${(e as Error).message}); trying its backup`);
    }
  }
  return undefined;
}

export function removeFile(path: string): void {
  try { unlinkSync(path); } catch { /* not there */ }
}
