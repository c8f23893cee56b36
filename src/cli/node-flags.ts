/**
 * Node flags the server processes (standalone, mqbroker, mqproxy) are started with, as
 * upstream's runbroker.sh sets the JVM heap. V8 sizes a fresh heap small and, for a broker
 * whose live heap is ~15 MB while it moves 100 MB/s through buffers, then runs a full
 * collection every ~80 ms under load; starting the old generation at 64 MB cuts those to
 * about one a second and the broker's CPU per message by a quarter (measured with
 * `npm run bench -- async`).
 *
 * Flags cannot be set once the process runs, so they are repeated where processes start:
 * the `start` script in package.json and the shebang lines of the CLIs. A test keeps those in
 * step with this list; the bench starts its child broker with it. The benches' own processes,
 * the load generators (ours and the peers' lean clients alike), run with it too: a consumer
 * draining 400,000 messages a second otherwise runs a full collection every ~100 ms (17 in a
 * 1-million drain against 1), and the clients' GC would be measured instead of the servers.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/**
 * glibc tunables the server processes start with: `glibc.malloc.hugetlb=1` has malloc advise
 * transparent huge pages (MADV_HUGEPAGE) for the memory it maps, which is where Node keeps
 * Buffers: the IndexFile's 20 MB slot table, the ConsumeQueue tails, the CommitLog's write
 * pages. With THP in its default `madvise` mode nothing is huge otherwise, and each put's
 * random slot and 8,000 queues' tails cost a TLB miss on 4 KiB pages: with 1,000 topics × 8
 * queues under load the broker spent 0.5-2 µs less CPU per message with it
 * (`npm run bench -- topics`, alternating runs). Idle RSS is unchanged. A glibc without the
 * tunable, or another libc, ignores it; the caller's own GLIBC_TUNABLES follow it, so theirs
 * win where both set a tunable.
 */
export const SERVER_GLIBC_TUNABLES = 'glibc.malloc.hugetlb=1';

/** `env` with SERVER_GLIBC_TUNABLES put before the tunables it already holds. */
export function serverEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, GLIBC_TUNABLES: `${SERVER_GLIBC_TUNABLES}:${env.GLIBC_TUNABLES ?? ''}` };
}
