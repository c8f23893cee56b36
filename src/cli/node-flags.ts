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
