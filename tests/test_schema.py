"""The committed JSON Schema is the one the models generate."""

from __future__ import annotations

import json

import jsonschema
import pytest

from image_cleanup.results import result_schema
from image_cleanup.schema import main as schema_main
from tests.helpers import ROOT, validate


def test_committed_schema_matches_the_models() -> None:
    committed = json.loads((ROOT / "schemas" / "result.schema.json").read_text(encoding="utf-8"))
    assert committed == result_schema(), "run: python -m image_cleanup.schema"
    assert schema_main(["--check"]) == 0


def test_check_reports_drift(tmp_path) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}", encoding="utf-8")
    assert schema_main(["--check", "--path", str(stale)]) == 1
    assert schema_main(["--path", str(stale)]) == 0
    assert schema_main(["--check", "--path", str(stale)]) == 0


def test_schema_refuses_what_the_contract_forbids() -> None:
    good = {
        "schema_version": "1", "status": "succeeded", "trigger": "sqs", "event_id": None,
        "invocation_id": "x", "api": "ims", "dry_run": False, "started_at": "2026-12-04T10:00:00.123Z",
        "duration_ms": 1, "summary": dict.fromkeys(("total", "deleted", "already_absent", "would_delete", "skipped", "rejected", "failed", "deferred"), 0),
        "items": [], "errors": [], "batchItemFailures": [],
    }
    validate(good)
    for broken in ({**good, "status": "ok"}, {**good, "started_at": "2026-12-04T10:00:00+08:00"},
                   {**good, "extra": 1}, {k: v for k, v in good.items() if k != "items"}):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_unwritable_path_is_one_line_not_a_traceback(capsys) -> None:
    assert schema_main(["--path", "/proc/no-such-dir/schema.json"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
