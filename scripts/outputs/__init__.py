"""Outputs: everything written from the validated package: the descriptor and the published tables
(publish), the docs, citation and figures (make docs), the release (make dist), the database (make db).

Modules, in flow order: publish, build_descriptor, build_dictionary, build_codebook, build_citation,
build_readme, build_figures, build_dist, build_parquet, build_db, build_datasette_metadata,
build_input_schemas (the JSON Schemas of the hand-written inputs, for editors).
"""
