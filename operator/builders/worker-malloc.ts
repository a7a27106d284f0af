// How worker processes set up glibc's malloc, given to them in their environment (it is read at
// process start): the operator's worker pods and LocalCluster's worker processes get it. A
// worker allocates many buffers of a few MB to tens of MB (partitions copied out of Polars, ML
// shards, Arrow IPC); by default glibc maps each such block fresh and unmaps it when freed, so
// every new buffer pays a page fault per 4 KiB it touches, which dominated building ML shards
// (docs/benchmarks.md). Served from the heap instead, with up to 256 MiB of its freed top kept,
// the memory is reused. RSS then stays near its peak after a big task, as a compute worker is
// sized anyway. Where transparent huge pages are on 'madvise' (the common default), hugetlb=1
// asks for them on malloc's heap and maps, so the blocks still mapped fresh (past 32 MiB, or
// the heap growing) fault once per 2 MiB: copying a column out of Polars went 14x faster here.
// Where huge pages are off, or glibc is older than 2.35, that setting is ignored.

/** The GLIBC_TUNABLES value (an environment that sets its own wins): blocks under 32 MiB from the heap, trimmed past 256 MiB free, on huge pages where the kernel allows. */
export const WORKER_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456:glibc.malloc.hugetlb=1';
