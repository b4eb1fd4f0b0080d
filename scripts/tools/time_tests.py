"""How long the test suite takes, against one `frictionless validate datapackage.json`.

Runs, ROUNDS times in turn, `frictionless validate datapackage.json` (three times, the
median kept) and `make test`, each as a user runs it, in a new process, and prints each
round's wall-clock and CPU seconds, the ratio of the two wall-clock times, and the
medians. A round's runs are next to each other, so a virtual machine that is slower for
a while (seen here: the same loop taking 1.5 to 2.0 s) is slower for both.
The suite's target is `make test` within 60 times one `frictionless validate`.

    python -m scripts.tools.time_tests [--rounds 3] [--workers auto] [--tests "tests/test_x.py ..."]

Nothing here is a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
from pathlib import Path

from .bench import run

TARGET = 60


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="auto", help="TEST_WORKERS for make test")
    parser.add_argument("--tests", default="", help="TESTS for make test: only these tests (pytest arguments)")
    args = parser.parse_args(argv)
    frictionless = str(Path(sys.executable).parent / "frictionless")
    print(f"time_tests: {os.cpu_count()} cores, {args.rounds} rounds, TEST_WORKERS={args.workers}"
          + (f", TESTS={args.tests}" if args.tests else ""))
    print(f"{'round':>5}  {'validate s':>10}  {'make test s':>11}  {'CPU s':>7}  {'tests':>6}  {'ratio':>6}")
    walls, tests, ratios = [], [], []
    for number in range(1, args.rounds + 1):
        validate_wall = statistics.median(run([frictionless, "validate", "datapackage.json"]).seconds for _ in range(3))
        suite = run(["make", "test", f"TEST_WORKERS={args.workers}", f"TESTS={args.tests}"])
        test_wall, test_cpu = suite.seconds, suite.cpu
        passed = re.search(r"(\d+) passed", suite.output)
        ratio = test_wall / validate_wall
        walls.append(validate_wall)
        tests.append(test_wall)
        ratios.append(ratio)
        print(f"{number:>5}  {validate_wall:>10.2f}  {test_wall:>11.1f}  {test_cpu:>7.1f}  "
              f"{passed.group(1) if passed else '?':>6}  {ratio:>5.1f}x")
    ratio = statistics.median(ratios)
    print(f"median: frictionless validate {statistics.median(walls):.2f} s, make test {statistics.median(tests):.1f} s, "
          f"ratio {ratio:.1f}x (target: within {TARGET}x: {'yes' if ratio <= TARGET else 'no'})")


if __name__ == "__main__":
    main()
