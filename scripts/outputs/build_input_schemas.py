"""The JSON Schemas of the hand-written inputs, for editors: schema/<kind>.schema.json.

Exported from the pydantic models in scripts/inputs/input_models.py, with the enums of
schema/package.yaml, for annotations.yaml, metadata.yaml, the reference scale and
data/releases/retired-ids.yaml.
Each annotations.yaml names its schema in a first-line comment,

    # yaml-language-server: $schema=../../../schema/annotations.schema.json

so an editor with the YAML language server underlines a mistake as it is typed.
The files are committed; tests/test_input_contract.py fails when they are stale.

    python -m scripts.outputs.build_input_schemas [--root DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..claims import extract
from ..inputs import input_models
from ..common import ROOT, BuildError, atomic_write_bytes, fail, json_bytes, package_spec

KINDS = ("annotations", "metadata", "reference", "dates", "retired-ids")
MODELINE = "# yaml-language-server: $schema="


def schema_path(root: Path, kind: str) -> Path:
    return Path(root) / "schema" / f"{kind}.schema.json"


def rendered(root: Path = ROOT) -> dict[Path, bytes]:
    """Each schema file's path and the bytes it must hold."""
    spec = package_spec(root)
    models = {"annotations": extract.ANNOTATIONS, **input_models.MODELS}
    return {schema_path(root, kind): json_bytes(input_models.json_schema(models[kind], spec)) for kind in KINDS}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="package folder (default: this repository)")
    args = parser.parse_args(argv)
    try:
        files = rendered(args.root)
    except BuildError as error:
        fail(error)
    for path, data in files.items():
        atomic_write_bytes(path, data)
    print("build_input_schemas: wrote " + ", ".join(p.name for p in files))


if __name__ == "__main__":
    main()
