"""The scale benchmark: how the pipeline's cost grows with the number of bulletins.

For each size N it synthesises N bulletins from the archived one (varied
numbers, dates, weekdays, places and troop windows, each with its own hash and
annotations), then runs every stage as `make` would, each in its own process,
and prints: stage, N, rows, seconds, rows per second, peak memory. Beside the
pipeline it times `frictionless validate` alone on the same package, so the
pipeline's overhead is a ratio, and it times a no-op `make` in this repository.

    python -m scripts.bench [--sizes 1 10 100 1000] [--keep DIR]

Nothing here is a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from .common import ROOT, load_yaml

BULLETIN = ROOT / "data" / "raw" / "met-2017-05-24-additional-armed-officers"
PLACES = ["Manchester", "London", "Birmingham", "Leeds", "Glasgow", "Cardiff", "Bristol", "Liverpool",
          "Newcastle", "Belfast", "Sheffield", "Nottingham"]
OFFICER_WORDS = ["One thousand", "Two thousand", "Five hundred", "Eight hundred", "Twelve hundred",
                 "One thousand five hundred", "Three thousand", "Nine hundred"]
WINDOWS = [(12, 96), (6, 48), (24, 72), (2, 12), (8, 36)]


def synthesise(raw_dir: Path, count: int) -> None:
    """`count` bulletin folders under raw_dir, each a consistent variant of the archived one."""
    text = (BULLETIN / "source.txt").read_bytes().decode("utf-8")
    notes = (BULLETIN / "annotations.yaml").read_text(encoding="utf-8")
    meta = (BULLETIN / "metadata.yaml").read_text(encoding="utf-8")
    original = load_yaml(BULLETIN / "metadata.yaml")
    for i in range(count):
        published = date(2017, 1, 2) + timedelta(days=i % 1800)
        day_before = (published - timedelta(days=1)).strftime("%A")
        low, high = WINDOWS[i % len(WINDOWS)]
        changes = [
            ("May 24, 2017", f"{published.strftime('%B')} {published.day}, {published.year}"),
            ("Tuesday night", f"{day_before} night"),
            ("One thousand", OFFICER_WORDS[i % len(OFFICER_WORDS)]),
            ("3,800", f"{1000 + (i * 37) % 9000:,}"),
            ("12 to 96 hours", f"{low} to {high} hours"),
            ("attack in Manchester", f"attack in {PLACES[i % len(PLACES)]}"),
        ]
        body, annotations = text, notes
        for old, new in changes:
            body, annotations = body.replace(old, new), annotations.replace(old, new)
        if i:  # the page link names an organisation the first bulletin defined: only a mention here
            annotations = annotations.replace("uncoded: []", 'uncoded:\n  - quote: "Follow Metropolitan Police"\n'
                                              '    reason: "The publisher\'s page link; the organisation is defined by an '
                                              'earlier bulletin."')
        data = body.encode("utf-8")
        source_id = f"bench-{i:05d}"
        folder = raw_dir / f"{source_id}-bulletin"
        folder.mkdir(parents=True)
        (folder / "source.txt").write_bytes(data)
        (folder / "annotations.yaml").write_text(annotations, encoding="utf-8")
        (folder / "metadata.yaml").write_text(
            meta.replace(f"source_id: {original['source_id']}", f"source_id: {source_id}")
                .replace(original["sha256"], hashlib.sha256(data).hexdigest())
                .replace('"2017-05-24T', f'"{published.isoformat()}T'), encoding="utf-8")


def package_root(base: Path, count: int) -> Path:
    root = base / f"n{count}"
    shutil.copytree(ROOT / "schema", root / "schema")
    shutil.copytree(ROOT / "data" / "reference", root / "data" / "reference")
    synthesise(root / "data" / "raw", count)
    return root


@dataclass(frozen=True)
class Run:
    seconds: float  # wall clock
    cpu: float  # user + system seconds, the process's waited-for children included
    peak_mib: float  # peak resident memory of the process
    output: str  # what it printed on standard output


def run(command: list[str]) -> Run:
    """One process, timed; its failure stops the measurement with the end of what it printed."""
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        output.seek(0), errors.seek(0)
        printed, complaints = output.read().decode(errors="replace"), errors.read().decode(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{Path(sys.argv[0]).stem}: {' '.join(command)} failed:\n{printed[-2000:]}{complaints[-2000:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, printed)


def count_rows(root: Path) -> int:
    return sum(max(0, p.read_bytes().count(b"\n") - 1) for p in (root / "data").glob("*.csv"))


def stages(root: Path) -> list[tuple[str, list[str]]]:
    python = sys.executable
    steps = [
        ("extract", [python, "-m", "scripts.extract", "--root", str(root)]),
        ("descriptor", [python, "-m", "scripts.build_descriptor", "--root", str(root)]),
        ("validate (frictionless + pandera)", [python, "-m", "scripts.validate", "--root", str(root)]),
    ]
    if (ROOT / "scripts" / "build_db.py").exists():
        steps.append(("database", [python, "-m", "scripts.build_db", "--root", str(root),
                                   "--out", str(root / "build" / "bench.db")]))
    return steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--keep", type=Path, help="keep the synthesised packages in this folder")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-")) if not args.keep else args.keep
    print(f"bench: {date.today().isoformat()}, {platform.node() or 'this machine'}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    header = f"{'stage':<36} {'N':>5} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'peak MiB':>9}"
    print(header)
    print("-" * len(header))
    summary = []
    try:
        for count in args.sizes:
            root = package_root(base, count)
            total = 0.0
            for name, command in stages(root):
                measured = run(command)
                seconds, peak = measured.seconds, measured.peak_mib
                rows = count_rows(root)
                total += seconds
                print(f"{name:<36} {count:>5} {rows:>8} {seconds:>8.2f} {rows / seconds:>9.0f} {peak:>9.0f}")
            alone = run([str(Path(sys.executable).parent / "frictionless"), "validate", str(root / "datapackage.json")])
            seconds, peak = alone.seconds, alone.peak_mib
            print(f"{'frictionless validate alone':<36} {count:>5} {rows:>8} {seconds:>8.2f} "
                  f"{rows / seconds:>9.0f} {peak:>9.0f}")
            print(f"{'full build (all stages)':<36} {count:>5} {rows:>8} {total:>8.2f} {rows / total:>9.0f}")
            summary.append((count, total, seconds))
            shutil.rmtree(root, ignore_errors=True) if not args.keep else None
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print()
    previous = None
    for count, total, alone in summary:
        marginal = "" if previous is None else \
            f", marginal {(total - previous[1]) / (count - previous[0]) * 1000:.1f} ms per added bulletin"
        print(f"N={count:>5}: {total / count * 1000:8.1f} ms per bulletin{marginal}, "
              f"pipeline / frictionless-alone = {total / alone:.2f}")
        previous = (count, total)
    subprocess.run(["make", "--no-print-directory"], cwd=ROOT, capture_output=True)  # settle first
    start = time.perf_counter()
    subprocess.run(["make", "--no-print-directory"], cwd=ROOT, capture_output=True)
    print(f"no-op make: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
