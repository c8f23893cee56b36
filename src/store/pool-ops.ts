/**
 * Counts the operations on a file's descriptor that are in the thread pool (writes, fdatasyncs,
 * reads) until their callbacks run, so that closing the descriptor can wait for them: closed
 * earlier, its number could go to a file opened meanwhile, and a queued operation would then
 * fail with EBADF or act on that other file.
 */
export class PoolOps {
  private inPool = 0;
  private onIdle?: () => void;

  /** `cb`, counted until it is called. */
  wrap<A extends unknown[]>(cb: (...args: A) => void): (...args: A) => void {
    this.inPool++;
    return (...args) => {
      if (--this.inPool === 0 && this.onIdle !== undefined) {
        const idle = this.onIdle;
        this.onIdle = undefined;
        idle();
      }
      cb(...args);
    };
  }

  /** Runs `fn` now when nothing is in the pool, else once the last counted callback is called. */
  whenIdle(fn: () => void): void {
    if (this.inPool === 0) fn();
    else this.onIdle = fn;
  }
}
