/** Topic permission bits (upstream `PermName`). */
export const PermName = {
  PERM_PRIORITY: 0x8,
  PERM_READ: 0x4,
  PERM_WRITE: 0x2,
  PERM_INHERIT: 0x1,
  /** Bit numbers of the flags above (`PERM_READ === 1 << INDEX_PERM_READ`), as group forbidden tables use them. */
  INDEX_PERM_PRIORITY: 3,
  INDEX_PERM_READ: 2,
  INDEX_PERM_WRITE: 1,
  INDEX_PERM_INHERIT: 0,
} as const;

export function isReadable(perm: number): boolean {
  return (perm & PermName.PERM_READ) === PermName.PERM_READ;
}
export function isWriteable(perm: number): boolean {
  return (perm & PermName.PERM_WRITE) === PermName.PERM_WRITE;
}
export function isInherited(perm: number): boolean {
  return (perm & PermName.PERM_INHERIT) === PermName.PERM_INHERIT;
}
export function perm2String(perm: number): string {
  return (isReadable(perm) ? 'R' : '-') + (isWriteable(perm) ? 'W' : '-') + (isInherited(perm) ? 'X' : '-');
}
