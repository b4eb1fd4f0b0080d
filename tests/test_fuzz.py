"""Property-based mutations of the hand-written inputs and the published tables
(tests/fuzz_inputs.py): every case is either rejected with errors naming the
mutated file, with no traceback and no published file changed, or accepted with
the very same tables.

`make test` runs a fixed seed and FUZZ_EXAMPLES (default 30) cases; `make fuzz`
runs 2,000 and prints the figures (see conftest.pytest_terminal_summary).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import fuzz_inputs

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))


def test_mutated_inputs_are_rejected_cleanly_or_change_nothing(tmp_path_factory):
    workspace = fuzz_inputs.Workspace(tmp_path_factory.mktemp("fuzz") / "package")
    tally = fuzz_inputs.TALLY
    start = tally.counts["cases"]

    @seed(20171024)
    @settings(max_examples=EXAMPLES, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        fuzz_inputs.run_case(workspace, data.draw)

    case()
    assert tally.counts["cases"] - start >= EXAMPLES
    assert tally.bad() == 0, "\n".join(tally.report())
