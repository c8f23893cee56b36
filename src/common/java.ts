/**
 * Java `String.hashCode()`: over UTF-16 code units, 32-bit signed wrap-around.
 * Upstream uses it for tag codes (ConsumeQueue tagsCode) and IndexFile key hashes.
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  }
  return h;
}

/** Java `String.compareTo` order (UTF-16 code units), which is also JS's default string order. */
export function javaCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
