import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MappedFileQueue } from '../../src/store/mapped-file-queue.js';
import { busyPool } from '../helpers/pool.js';
import { tempDir } from '../helpers/tmp.js';

test('segments deleted while a write waits in the thread pool keep their descriptor until the write is done', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const q = new MappedFileQueue(join(dir, 'queue'), 1024 * 1024);
    const f = q.createFile(0);
    f.writeAtSync([Buffer.from('first')], 0);
    const busy = busyPool();
    const written = new Promise<Error | null>((resolve) => f.writeAt([Buffer.from('late write')], 5, resolve));
    q.destroy();
    assert.equal(existsSync(f.path), false);
    // A file opened now would take the descriptor's number if it had been closed already.
    const other = join(dir, 'other');
    const fd = openSync(other, 'w+');
    writeSync(fd, 'other file');
    await busy;
    assert.equal(await written, null);
    closeSync(fd);
    assert.equal(readFileSync(other, 'utf8'), 'other file');
    assert.throws(() => f.writeAtSync([Buffer.from('x')], 0), /was deleted/);
  } finally {
    cleanup();
  }
});
