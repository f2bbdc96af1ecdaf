"""Build the FunctionGraph deployment zip: ``python -m image_cleanup.package -o dist/image-cleanup.zip``.

The zip holds ``handler.py`` at its root, this package, and ``requests`` and
``pydantic-settings`` (with their dependencies) vendored as manylinux wheels for the target
Python: FunctionGraph's own ``requests`` is too old, and ``pydantic-core`` is compiled, so the
wheels must match the runtime's Python version and architecture, not the build machine's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "aarch64": "manylinux2014_aarch64"}
_SKIP_DIRS = {"bin"}
# Reproducible archives: every entry gets the same timestamp.
_EPOCH = (2026, 1, 1, 0, 0, 0)


def vendor(target: Path, python: str, arch: str) -> None:
    """Install the runtime requirements into ``target`` as wheels for the target runtime."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--no-warn-conflicts", "--target", str(target),
        "--only-binary=:all:", "--implementation", "cp",
        "--python-version", python, "--platform", PLATFORMS[arch],
        "-r", str(ROOT / "requirements.txt"),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, our own interpreter


def precompile(*folders: Path) -> None:
    """Ship bytecode, so a cold start need not compile (the function's folder is read-only).

    Unchecked-hash pycs stay valid whatever timestamps the unpacked files get. Only possible
    when this interpreter is the target's version; otherwise the runtime compiles at start.
    """
    import compileall
    import py_compile

    for folder in folders:
        compileall.compile_dir(
            str(folder), quiet=1, workers=1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )


def _add_tree(archive: zipfile.ZipFile, source: Path, prefix: str) -> int:
    count = 0
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(folder) / name
            arcname = f"{prefix}{path.relative_to(source).as_posix()}"
            info = zipfile.ZipInfo(arcname, _EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
            count += 1
    return count


def build(output: Path, python: str = "3.12", arch: str = "x86_64") -> int:
    """Write the zip; returns the number of files in it."""
    if not re.fullmatch(r"3\.\d{1,2}", python):
        raise ValueError("--python must look like 3.12")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="image-cleanup-package-") as scratch:
        site = Path(scratch) / "site"
        vendor(site, python, arch)
        staged = Path(scratch) / "app"
        shutil.copytree(ROOT / "image_cleanup", staged / "image_cleanup",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy2(ROOT / "handler.py", staged / "handler.py")
        if python == f"{sys.version_info.major}.{sys.version_info.minor}":
            precompile(staged, site)
        with zipfile.ZipFile(output, "w") as archive:
            return _add_tree(archive, staged, "") + _add_tree(archive, site, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m image_cleanup.package", description=__doc__)
    parser.add_argument("--python", default="3.12", help="the runtime's Python version (default 3.12)")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("-o", "--output", type=Path, default=Path("dist/image-cleanup.zip"))
    args = parser.parse_args(argv)
    try:
        count = build(args.output, args.python, args.arch)
    except ValueError as exc:
        parser.error(str(exc))
    except subprocess.CalledProcessError:
        print("pip could not fetch wheels for that Python and platform", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    size = args.output.stat().st_size
    print(f"{args.output}: {count} files, {size / 1e6:.1f} MB (Python {args.python}, {args.arch}); "
          "handler: handler.handler")
    return 0


if __name__ == "__main__":
    sys.exit(main())
