"""The code of the package's build, one folder per stage of the flow (docs/building.md):

inputs/   reading and checking what curators write, and the declarations of schema/package.yaml
claims/   turning the bulletin's words into rows (data/*.csv)
checks/   the validation gate
outputs/  everything written from the validated package (descriptor, citation, docs, release, database)
site/     serving the database, and the site as a folder that runs on its own
tools/    developer and measurement tools (drafting aid, benchmarks, load checks, screenshots)
common.py helpers every stage shares (the repository's root, errors, atomic writes, CSV and JSON bytes)
"""
