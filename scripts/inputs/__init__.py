"""Inputs: reading and checking what curators write (data/raw/*/, data/reference/) and the
declarations of schema/package.yaml (fact kinds, row rules), before any row is made.

Modules, in flow order: yaml_input (strict YAML with the line of every value), input_models (the
contract of each hand-written file), fact_kinds (the declared kinds as table schemas), rules (row rules).
"""
