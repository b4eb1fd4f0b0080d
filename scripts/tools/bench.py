"""The scale benchmark: how the pipeline's cost grows with the number of bulletins.

For each size N it synthesises N bulletins from the archived one (copies of its
folder, each renamed and re-dated, with its own hash; see `synthesise`), then
runs every stage as `make` would, each in its own process, and prints: stage,
N, rows, seconds, rows per second, peak memory. Beside the
pipeline it times `frictionless validate` alone on the same package, so the
pipeline's overhead is a ratio, and it times a no-op `make` in this repository.

    python -m scripts.tools.bench [--sizes 1 10 100 1000] [--keep DIR]

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
from datetime import date, datetime, timedelta
from pathlib import Path

from ..common import ROOT, load_yaml

BULLETIN = ROOT / "data" / "raw" / "met-2017-05-24-additional-armed-officers"


def same_weekday_in_summer(first: date):
    """Dates a week apart from `first` (the same weekday, so the bulletin's "Tuesday night" stays
    the day before), in April to September, when a dateline in BST is right."""
    day = first
    while True:
        if 4 <= day.month <= 9:
            yield day
        day += timedelta(days=7)


def printed_date(day: date) -> str:
    """A date as the bulletin's dateline prints it ("May 24, 2017")."""
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def printed_again(notes: str) -> str:
    """The annotations of a later copy: a contact is coded where its number is first printed, so a later
    bulletin that prints the same number lists it by its ID and quote only (docs/adding-a-bulletin.md)."""
    lines, out, inside = notes.split("\n"), [], False
    for line in lines:
        if line and not line.startswith((" ", "#")):
            inside = line.startswith("contacts:")
        if inside and line.startswith("    ") and not line.startswith("    quote:"):
            continue
        out.append(line)
    return "\n".join(out)


def synthesise(raw_dir: Path, count: int, bulletin: Path = BULLETIN) -> None:
    """`count` bulletin folders under raw_dir: copies of the archived bulletin's folder, each with
    its own source_id (and folder name) and published a week after the one before (the dateline's
    printed date changed in the text and wherever the annotations quote it, the hash recomputed).
    Nothing else of the annotations is rewritten, so every copy follows the coding rules the real
    one follows (coverage counts only the words of claims, which every copy has of its own; the rows
    defined once per package, an organisation's or a person's, cover nothing)."""
    import yaml
    text = (bulletin / "source.txt").read_bytes().decode("utf-8")
    notes = (bulletin / "annotations.yaml").read_text(encoding="utf-8")
    meta = load_yaml(bulletin / "metadata.yaml")
    published = datetime.fromisoformat(meta["published"])
    old_date = printed_date(published.date())
    if old_date not in text:
        raise SystemExit(f"bench: the dateline date {old_date!r} is not printed in {bulletin / 'source.txt'}")
    later = printed_again(notes)
    for i, day in zip(range(count), same_weekday_in_summer(published.date())):
        body = text.replace(old_date, printed_date(day))
        annotations = (notes if i == 0 else later).replace(old_date, printed_date(day))
        data = body.encode("utf-8")
        source_id = f"bench-{i:05d}"
        folder = raw_dir / f"{source_id}-bulletin"
        folder.mkdir(parents=True)
        (folder / "source.txt").write_bytes(data)
        (folder / "annotations.yaml").write_text(annotations, encoding="utf-8")
        fields = {**meta, "source_id": source_id, "sha256": hashlib.sha256(data).hexdigest(),
                  "published": published.replace(year=day.year, month=day.month, day=day.day).isoformat()}
        (folder / "metadata.yaml").write_text(yaml.safe_dump(fields, sort_keys=False, allow_unicode=True),
                                              encoding="utf-8")


def sizes(text: str) -> list[int]:
    """One --sizes argument: a count, or counts separated by commas."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas or spaces, got {text!r}") from None


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
        ("extract", [python, "-m", "scripts.claims.extract", "--root", str(root)]),
        ("descriptor", [python, "-m", "scripts.outputs.build_descriptor", "--root", str(root)]),
        ("validate (frictionless + pandera)", [python, "-m", "scripts.checks.validate", "--root", str(root)]),
    ]
    if (ROOT / "scripts" / "outputs" / "build_db.py").exists():
        steps.append(("database", [python, "-m", "scripts.outputs.build_db", "--root", str(root),
                                   "--out", str(root / "build" / "bench.db")]))
    return steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes, nargs="+", default=[[1, 10, 100, 1000]],
                        help='bulletin counts, separated by spaces or commas ("1 10" or "1,10")')
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
        for count in [n for group in args.sizes for n in group]:
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
