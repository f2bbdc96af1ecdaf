"""Write the result's JSON Schema, generated from the models: ``python -m image_cleanup.schema``.

``--check`` exits 1 when the committed file and the models have drifted apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from image_cleanup.results import result_schema

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "schemas" / "result.schema.json"


def render() -> str:
    return json.dumps(result_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m image_cleanup.schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is out of date: run python -m image_cleanup.schema", file=sys.stderr)
            return 1
        return 0
    try:
        args.path.parent.mkdir(parents=True, exist_ok=True)
        args.path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"cannot write {args.path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
