"""Claims: turning the bulletin's words into rows, data/*.csv (`python -m scripts.claims.extract`),
from the checked inputs.

Modules, in flow order: extract (the step), derive (typed values from quoted words), recognise
(fact-bearing tokens), clauses (words and runs of words), sentences (the sentence splitter),
coverage (every fact-bearing token inside some row's evidence), claim_rows (the claims table).
"""
