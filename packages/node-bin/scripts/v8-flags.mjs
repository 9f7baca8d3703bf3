/**
 * The V8 flags built into the executable (scripts/build-exe.mjs); the
 * benchmark runs the bundle under plain `node` with the same ones.
 * - --single-threaded: V8 compiles and collects on the main thread. Its helper
 *   threads each grew a malloc arena that glibc never gave back: measured
 *   with /proc/<pid>/smaps, a node that had received 100 000 messages kept
 *   4 MiB more anonymous memory with them, and the 1 KiB send rate between
 *   two nodes did not drop without them (2 cores).
 * - --max-semi-space-size=4: a 4 MiB young generation (V8's default grows to
 *   16 MiB per semi-space) keeps a busy node's heap about 20 MiB smaller, for
 *   a few per cent of throughput; see bench/RESULTS.md.
 * - --min-semi-space-size=4: that size from the start. V8 starts at 1 MiB and
 *   grows on demand, so a start filled it twice before ready: two scavenges,
 *   2-3 ms each, over a heap just deserialized. An idle node is no larger for
 *   it (RSS 15 s after connecting: 69.9 MiB against 70.0, pnpm bench --only
 *   memory); 3 s after connecting, before the idle reclaim, it was 2.9 MiB
 *   larger.
 * - --expose-gc: gc() for the idle memory reclaim.
 */
export const EXEC_ARGV = Object.freeze(['--single-threaded', '--max-semi-space-size=4', '--min-semi-space-size=4', '--expose-gc'])
