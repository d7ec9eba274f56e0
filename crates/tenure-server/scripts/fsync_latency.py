#!/usr/bin/env python3
"""The machine's fsync latency where a store lives: write 100 bytes + fsync, N times
(default 100) on one small file in DIR, each write+fsync timed; prints the median, p90 and max in microseconds.

    python3 scripts/fsync_latency.py DIR [N]
"""
import os
import statistics
import sys
import time

directory = sys.argv[1] if len(sys.argv) > 1 else "."
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
path = os.path.join(directory, f".fsync-probe-{os.getpid()}")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
samples = []
try:
    for i in range(n):
        t0 = time.perf_counter_ns()
        os.pwrite(fd, b"x" * 100, (i % 16) * 100)
        os.fsync(fd)
        samples.append((time.perf_counter_ns() - t0) / 1000)
finally:
    os.close(fd)
    os.unlink(path)
samples.sort()
print(
    f"fsync in {directory}: median {statistics.median(samples):.0f} us, "
    f"p90 {samples[int(0.9 * n) - 1]:.0f} us, max {samples[-1]:.0f} us ({n} samples)"
)
