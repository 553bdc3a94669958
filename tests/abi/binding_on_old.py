"""The Python binding of this checkout on an older library (docs/ABI.md; run by
tests/abi/older_lib.sh with AVENGERS_LIB set): it loads, trains and routes there, and reads only
what the library filled: av_fit_progress's fields past the library's struct_size (rows_searched,
appended in 1.4) are absent from pass_progress's dict on an older library and present on this
one. Usage: binding_on_old.py EXPECTED_VERSION. Ends with `N passed, N failed`."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

import numpy as np  # noqa: E402

import avengers  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % what)
    else:
        failed += 1
        print("FAIL %s" % what)


want = sys.argv[1]
check(avengers.version() == want, "the library loaded is %s (got %s)" % (want, avengers.version()))
rng = np.random.default_rng(3)
centres = rng.standard_normal((4, 8)).astype(np.float32)
blob = rng.integers(0, 4, 2000)
X = (centres[blob] + 0.2 * rng.standard_normal((2000, 8))).astype(np.float32)
S = np.stack([blob < 2, blob >= 2], axis=1).astype(np.float32)
C = np.tile(np.array([[2.0, 1.0]], np.float32), (2000, 1))
events = []
with avengers.Builder(8, ["a", "b"]) as b:
    b.add_many(X, S, C)
    r = b.fit(n_clusters=4, top_p=1, n_init=1, algorithm="sampled", sample_size=200,
              pass_progress=events.append)
stages = [e["stage"] for e in events]
check(stages[0] == "sample" and stages[-1] == "stats" and "pass" in stages,
      "pass_progress: the sample, the passes, the statistics (%s)" % stages)
new = tuple(int(x) for x in want.split(".")) >= (1, 4)
has = ["rows_searched" in e for e in events]
check(all(has) if new else not any(has),
      "rows_searched %s (struct_size of the library: %s)"
      % ("reported" if new else "absent", "covers it" if new else "does not cover it"))
if new:
    check(events[1]["rows_searched"] == 2000, "the first pass searched every row")
picks = [r.route(X[i], 1.0) for i in range(0, 2000, 97)]
check(all(p == (0 if blob[i] < 2 else 1) for p, i in zip(picks, range(0, 2000, 97))),
      "routes each blob to its model")
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
