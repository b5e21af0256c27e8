#!/usr/bin/env python3
"""fake-counters: keeps a fake RAPL zone and a fake /proc/stat true to the
wall clock, for tests that check measured energy against a known power.

    fake-counters.py ZONE_DIR PROC_DIR WATTS

ZONE_DIR/energy_uj gains WATTS joules a second (in µJ, as the kernel's
powercap counter does) and PROC_DIR/stat shows 2 cpus at 100 Hz, all busy:
the shape of the real file (the total line, then one line per cpu). Both
are rewritten every 5 ms by rename, so a reader sees one whole file, never
a torn one. One process with no forks: a shell loop under a loaded
machine lags by hundreds of ms, and the counter it writes lags with it.
The first values are written before the first sleep; it runs until
killed."""
import os
import sys
import time


def put(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(zone, proc, watts):
    t0 = time.time()
    while True:
        us = int((time.time() - t0) * 1e6)
        put(os.path.join(zone, "energy_uj"), "%d\n" % (us * watts))
        put(os.path.join(proc, "stat"),
            "cpu  %d 0 0 0 0 0 0 0 0 0\ncpu0 %d 0 0 0 0 0 0 0 0 0\n"
            "cpu1 %d 0 0 0 0 0 0 0 0 0\n" % (us // 5000, us // 10000,
                                              us // 10000))
        time.sleep(0.005)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: fake-counters.py ZONE_DIR PROC_DIR WATTS")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
