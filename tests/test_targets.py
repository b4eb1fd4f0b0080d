"""Every user-facing make target and every command the README and the docs pages give is run
somewhere: by the suite (a test that calls `make(repo, "target")`, or runs the step a command
starts) or by .ci/targets, which .ci/run runs after the suite, once each at a small size. So a tool
cannot break unseen: a new .PHONY target, or a new command in a page, fails here until something
runs it."""

from __future__ import annotations

import re
import shlex

from conftest import ROOT, doc_pages

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
README = "\n".join(doc_pages().values())  # the README and every docs page
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
CI_TARGETS = (ROOT / ".ci" / "targets").read_text(encoding="utf-8")
TESTS = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py")
         if p.name != "test_targets.py"}


def phony_targets() -> set[str]:
    (line,) = re.findall(r"^\.PHONY:(.*)$", MAKEFILE, re.MULTILINE)
    return set(line.split())


def default_goal() -> str:
    return re.search(r"^\.DEFAULT_GOAL := (\S+)", MAKEFILE, re.MULTILINE).group(1)


def make_goals(words: list[str]) -> list[str]:
    """The goals of one `make ...` command's words (variables and options left out)."""
    goals, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("-W", "-C", "-f", "-o"):
            skip = True  # the option's argument
        elif not word.startswith("-") and "=" not in word:
            goals.append(word)
    return goals or [default_goal()]


def ci_goals() -> set[str]:
    """Goals of every `make` command line of .ci/run and .ci/targets (after `setsid` or `timeout N`;
    redirections and a final `&` left out)."""
    goals = set()
    for line in (CI_RUN + CI_TARGETS).splitlines():
        line = re.sub(r"\s(?:\d*>|&).*$", "", line.split("#")[0].strip())
        match = re.match(r"^(?:setsid |timeout \S+ )*make(?: (.*))?$", line)
        if match:
            goals |= set(make_goals(shlex.split(match.group(1) or "")))
    return goals


def suite_goals() -> set[str]:
    """Goals the suite runs with conftest.make(repo, *args)."""
    goals = set()
    for text in TESTS.values():
        # the goals are the string arguments written out (a starred list of options may follow)
        for call in re.findall(r"\bmake\((\w+)((?:, \"[^\"]*\")*)(?:\)|, \*)", text):
            goals |= set(make_goals(re.findall(r'"([^"]*)"', call[1])))
    return goals


def readme_commands() -> list[str]:
    """Every shell command the README and the docs pages give: the lines of their sh blocks and the
    `make ...` or `python -m ...` they name in running text."""
    commands = [line.split("  #")[0].strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)
                for line in block.replace("\\\n", " ").splitlines() if line.strip()]  # a line continued by \
    commands += re.findall(r"`((?:make|python -m) [^`]*)`", README)
    return commands


def test_ci_runs_the_targets_script():
    assert re.search(r"^\.ci/targets\b", CI_RUN, re.MULTILINE), ".ci/run must run .ci/targets"


def test_every_phony_target_is_exercised():
    exercised = ci_goals() | suite_goals()
    missing = sorted(phony_targets() - exercised)
    assert not missing, f"make targets no test and no CI step runs: {missing} (add them to .ci/targets)"


def test_every_readme_command_is_exercised():
    exercised_goals = ci_goals() | suite_goals()
    steps_run = set(re.findall(r"python -m ((?:scripts\.)?[\w.]+)", CI_TARGETS))
    steps_run |= {f"scripts.{m}" for text in TESTS.values() for m in re.findall(r'run_(?:step|cli)\("([\w.]+)"', text)}
    missing = []
    for command in readme_commands():
        words = shlex.split(command.replace("<", "").replace(">", ""))
        if words[0] == "make":
            missing += [f"{command} ({goal})" for goal in make_goals(words[1:]) if goal not in exercised_goals]
        elif words[:2] == ["python", "-m"] and words[2] not in steps_run:
            missing.append(command)
        elif words[0] == "curl" and not re.search(r"grep -ho \"\^curl .*127\.0\.0\.1:8001/.*README\.md docs/\*\.md", CI_TARGETS):
            missing.append(command)
    assert not missing, f"README commands nothing runs: {missing}"


def test_the_checker_sees_a_target_nothing_runs():
    """The check itself can fail: a goal that is in neither list is reported."""
    assert "bench" in ci_goals() and "db" in suite_goals()
    assert make_goals(["-W", "scripts/tools/screenshots.py", "screenshots"]) == ["screenshots"]
    assert make_goals(['SIZES=1 2']) == [default_goal()]
    assert "no-such-target" not in ci_goals() | suite_goals()
