#!/usr/bin/python3
"""Start-up: Mailroom's window against a bare libadwaita window with twenty entry rows, started the
same way, alternately, in the same run (under Xvfb, in a throwaway home). Prints the median time
from exec to the first frame and the resident memory then, and the ratios."""
import os
import statistics
import subprocess
import sys
import time

program = sys.argv[1]
runs = int(os.environ.get("MAILROOM_BENCH_STARTUPS", "9"))
results = {"bare": [], "mailroom": []}
env = dict(os.environ, GSK_RENDERER=os.environ.get("GSK_RENDERER", "cairo"))

for i in range(runs * 2):
    kind = "bare" if i % 2 == 0 else "mailroom"
    start = time.monotonic_ns() // 1000
    out = subprocess.run([program, kind], capture_output=True, text=True, env=env, timeout=60).stdout
    line = next((l for l in out.splitlines() if l.startswith("FRAME ")), None)
    if line is None:
        sys.exit(f"{kind}: no first frame")
    _, when, rss = line.split()
    results[kind].append(((int(when) - start) / 1000, int(rss) / 1024))

print(f"First frame, median of {runs} starts each (alternating, same run)")
print(f"{'':28} {'ms':>8} {'resident MB':>12}")
medians = {}
for kind, label in (("bare", "bare libadwaita, 20 rows"), ("mailroom", "Mailroom's window")):
    ms = statistics.median(r[0] for r in results[kind])
    mb = statistics.median(r[1] for r in results[kind])
    medians[kind] = (ms, mb)
    print(f"{label:28} {ms:8.0f} {mb:12.1f}")
print(f"{'ratio':28} {medians['mailroom'][0] / medians['bare'][0]:8.2f} "
      f"{medians['mailroom'][1] / medians['bare'][1]:12.2f}   (goal: time within 1.25)")
