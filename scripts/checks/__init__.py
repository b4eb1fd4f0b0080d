"""Checks: the validation gate between the rows and everything published from them
(frictionless, then Pandera and the declared row rules, one report).

Modules: validate.
"""
