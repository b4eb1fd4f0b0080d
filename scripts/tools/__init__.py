"""Tools: for developers and for measuring; nothing published is written by them.

Modules: bench (the scale benchmark), load_check (the bundle under load), hostile (hostile traffic),
screenshots (the README's picture of the site), time_tests (the suite's speed), draft_annotations
(the drafting aid for a new bulletin), load (the loader, temperer_data.py, from the repository).
"""
