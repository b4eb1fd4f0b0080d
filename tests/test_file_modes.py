"""What the build publishes is readable by others: atomic writes give a file the mode the umask
allows (as `open(path, "w")` would), not mkstemp's 0o600."""

from __future__ import annotations

import contextlib
import os
import stat

import pytest

from scripts.common import atomic_write_bytes


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_an_atomic_write_respects_the_umask(tmp_path, mask, expected):
    target = tmp_path / "out" / "table.csv"
    with umask(mask):
        atomic_write_bytes(target, b"a,b\n")
        plain = tmp_path / "plain.csv"
        plain.write_bytes(b"a,b\n")
    assert (mode(target), target.read_bytes()) == (expected, b"a,b\n")
    assert mode(target) == mode(plain)  # the same as a plain write
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]  # no temporary file left


def test_a_replaced_file_takes_the_umask_mode_not_the_old_one(tmp_path):
    target = tmp_path / "datapackage.json"
    target.write_bytes(b"{}")
    target.chmod(0o600)
    with umask(0o022):
        atomic_write_bytes(target, b"{}\n")
    assert mode(target) == 0o644
