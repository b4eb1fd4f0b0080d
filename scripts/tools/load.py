"""The loader, for `python -m scripts.tools.load` and `from scripts.tools.load import ...` in the repository: the
code is temperer_data.py at the repository's top (also at the top of the release archive, and what
`pip install .` installs), so that a reader's script can load the package from any folder.

    python -m scripts.tools.load [TABLE ...] [--descriptor datapackage.json]   # prints types and rows
"""

from temperer_data import *  # noqa: F401,F403
from temperer_data import DEFAULT_DESCRIPTOR, descriptor_and_folder, main  # noqa: F401

if __name__ == "__main__":
    main()
