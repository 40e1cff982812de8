"""Write tempest's compute API response schemas to a JSON file.

Run by tools/client-venv.sh with the tempest release on ``PYTHONPATH``:
``python tools/tempest_schemas.py OUT.json``. OUT.json maps
``"<module>"`` (``"v2_1.servers"``) to ``{name: schema}`` for every
response schema (a dict with ``status_code``) the module defines, plus
``"tempest_version"``. Only ``tempest.lib.api_schema`` is imported, which
needs nothing outside the standard library.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from importlib import metadata


def main() -> None:
    """Collect the schemas and write them to ``sys.argv[1]``."""
    package = importlib.import_module("tempest.lib.api_schema.response.compute")
    out: dict[str, object] = {"tempest_version": metadata.version("tempest")}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        schemas = {
            name: value
            for name, value in vars(module).items()
            if isinstance(value, dict) and "status_code" in value
        }
        if schemas:
            out[info.name[len(package.__name__) + 1 :]] = schemas
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(out, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
