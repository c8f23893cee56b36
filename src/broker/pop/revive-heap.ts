/** A min-heap of (time, key): check points ordered by when they come back. Stale entries are skipped by the caller. */
export class ReviveHeap {
  private times: number[] = [];
  private keys: string[] = [];

  get size(): number {
    return this.times.length;
  }

  push(at: number, key: string): void {
    const t = this.times;
    const k = this.keys;
    let i = t.length;
    t.push(at);
    k.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= at) break;
      t[i] = t[p]!;
      k[i] = k[p]!;
      i = p;
    }
    t[i] = at;
    k[i] = key;
  }

  peekTime(): number | undefined {
    return this.times[0];
  }

  /** Removes and returns the key with the smallest time. */
  pop(): string | undefined {
    const t = this.times;
    const k = this.keys;
    if (t.length === 0) return undefined;
    const top = k[0]!;
    const lastT = t.pop()!;
    const lastK = k.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && t[r]! < t[l]! ? r : l;
        if (t[c]! >= lastT) break;
        t[i] = t[c]!;
        k[i] = k[c]!;
        i = c;
      }
      t[i] = lastT;
      k[i] = lastK;
    }
    return top;
  }

  clear(): void {
    this.times = [];
    this.keys = [];
  }
}
