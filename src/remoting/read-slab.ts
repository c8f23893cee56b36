/** Bytes a read slab starts with, and the least room a read is offered before a new slab is taken. */
export const READ_SLAB_BYTES = 256 * 1024;
export const READ_SLAB_MIN_ROOM = 64 * 1024;

/**
 * Memory a socket reads into (net `onread`): each read lands right after the previous one in
 * one large slab, and a new slab is taken when less than READ_SLAB_MIN_ROOM is left. Frames stay
 * views of it, so a frame split between two reads is whole without a copy, and a read takes
 * whatever has arrived (up to the room left) instead of 64 KiB at most: a consumer draining
 * several queues handles several pull responses per read and sends their next pulls in one
 * write. Read bytes are never overwritten: a slab is garbage once no frame refers to it, so a
 * message kept long keeps its slab (as it kept its 64 KiB socket chunk before): 256 KiB keeps
 * that bounded while a read can still take several pull responses at once.
 */
export class ReadSlab {
  private buf: Buffer = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
  private used = 0;

  /** Where the next read goes (net calls this after every read). */
  next(): Buffer {
    if (this.buf.length - this.used < READ_SLAB_MIN_ROOM) {
      this.buf = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
      this.used = 0;
    }
    return this.buf.subarray(this.used);
  }

  /** The `n` bytes just read into `into` (the buffer `next` gave), claimed for good. */
  take(into: Buffer, n: number): Buffer {
    this.used += n;
    return into.subarray(0, n);
  }
}
