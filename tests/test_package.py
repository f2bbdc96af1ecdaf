"""The FunctionGraph zip: built, unpacked into an empty folder, and invoked with nothing else
on the import path, against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from image_cleanup.emulator import ImageApiEmulator
from image_cleanup.package import build, main
from tests.helpers import IMAGE, PROJECT, validate

PROBE = """
import json, os, sys
sys.path.insert(0, os.getcwd())
import handler, requests, pydantic_settings, pydantic_core

class Context:  # FunctionGraph's spelling
    def getRequestID(self): return "fg-zip-1"
    def getRemainingTimeInMilliSeconds(self): return 30000
    def getProjectID(self): return "PROJECT"

result = handler.handler(json.loads(sys.argv[1]), Context())
print(json.dumps({"result": result, "paths": [requests.__file__, pydantic_settings.__file__,
                  pydantic_core.__file__, handler.__file__], "sys_path": sys.path}))
""".replace("PROJECT", PROJECT)


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zip")
    archive = folder / "image-cleanup.zip"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    count = build(archive, python=python)
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        root = folder / "function"
        zipped.extractall(root)
    assert count == len(names) and "handler.py" in names
    return root, names


def test_zip_layout(unpacked) -> None:
    _, names = unpacked
    assert "image_cleanup/__init__.py" in names and "image_cleanup/cleanup.py" in names
    assert any(n.startswith("requests/") for n in names)
    assert any(n.startswith("pydantic_settings/") for n in names)
    assert any(n.startswith("pydantic_core/_pydantic_core") and n.endswith(".so") for n in names)
    tag = sys.implementation.cache_tag  # built for this interpreter: bytecode is shipped
    assert f"image_cleanup/__pycache__/cleanup.{tag}.pyc" in names
    assert f"requests/__pycache__/sessions.{tag}.pyc" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "events/")) for n in names)


def test_invocation_from_the_unpacked_zip_alone(unpacked) -> None:
    root, _ = unpacked
    with ImageApiEmulator(credentials={"ZIPAK": "zip-sk"}) as server:
        server.seed([IMAGE])
        env = {"CLEANUP_ENDPOINT": server.url, "HUAWEICLOUD_SDK_AK": "ZIPAK", "HUAWEICLOUD_SDK_SK": "zip-sk",
               "CLEANUP_API": "ims", "PATH": "/usr/bin:/bin"}
        run = subprocess.run(
            [sys.executable, "-I", "-S", "-c", PROBE, json.dumps({"image_id": IMAGE})],
            capture_output=True, text=True, cwd=root, env=env, timeout=120, check=False)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert server.images == set()
    item = validate(report["result"])["items"][0]
    assert (item["outcome"], item["project_id"]) == ("deleted", PROJECT)
    assert report["result"]["invocation_id"] == "fg-zip-1"
    for path in report["paths"]:
        assert path.startswith(str(root)), path
    assert not any("site-packages" in p for p in report["sys_path"])


def test_bad_python_version_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--python", "three", "-o", "/dev/null"])
    assert raised.value.code == 2


def test_unwritable_output_is_one_line_not_a_traceback(capsys) -> None:
    assert main(["--python", "3.12", "-o", "/proc/no-such-dir/image-cleanup.zip"]) == 1
    assert capsys.readouterr().err.startswith("cannot write")
