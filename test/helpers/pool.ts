import { pbkdf2 } from 'node:crypto';

/** Occupies every thread of the pool for a while, so that work handed to it next waits in its queue. */
export function busyPool(): Promise<void> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  return Promise.all(Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
    pbkdf2('x', 'y', 200_000, 32, 'sha256', (err) => (err ? reject(err) : resolve()));
  }))).then(() => undefined);
}
