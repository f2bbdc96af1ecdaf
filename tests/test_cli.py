"""The command line (SPEC section 8), run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from image_cleanup.emulator import Fault, ImageApiEmulator
from tests.helpers import EVENTS, IMAGE, PROJECT, ROOT, TOKEN, validate


def cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEANUP_", "HUAWEICLOUD_SDK_"))}
    return subprocess.run(
        [sys.executable, str(ROOT / "handler.py"), *args], input=stdin, capture_output=True,
        env={**base, **(env or {})}, cwd=ROOT, timeout=60, check=False,
    )


def result_of(run: subprocess.CompletedProcess[bytes]) -> dict:
    return validate(json.loads(run.stdout))


@pytest.mark.parametrize(
    ("sample", "code", "status"),
    [
        ("direct.json", 0, "succeeded"), ("sqs.json", 0, "succeeded"), ("bad-ids.json", 1, "partial"),
        ("wrong-event-type.json", 2, "rejected"), ("over-cap.json", 2, "rejected"),
        ("malformed.json", 2, "rejected"), ("not-yet-expired.json", 0, "succeeded"),
    ],
)
def test_emulator_runs_and_exit_codes(sample, code, status) -> None:
    run = cli(str(EVENTS / sample), "--emulator")
    assert run.returncode == code, run.stderr
    assert result_of(run)["status"] == status
    for line in run.stderr.decode().splitlines():  # logs are JSON lines on stderr
        json.loads(line)


def test_emulator_deletes_through_the_real_http_path() -> None:
    run = cli(str(EVENTS / "cloudevent.json"), "--emulator", env={
        "CLEANUP_ENDPOINT": "https://must-be-ignored.example.com", "CLEANUP_AUTH_TOKEN": "ignored",
        "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "example.com"})  # a proxy that is not there
    item = result_of(run)["items"][0]
    assert (item["outcome"], item["http_status"], item["attempts"]) == ("deleted", 204, 1)
    assert item["request_id"]


def test_stdin_and_dry_run_flag() -> None:
    event = json.dumps({"image_id": IMAGE, "project_id": PROJECT}).encode()
    run = cli("-", "--dry-run", stdin=event)
    result = result_of(run)
    assert run.returncode == 0 and result["dry_run"] is True
    assert result["items"][0]["outcome"] == "would_delete"


def test_failed_run_exits_1_and_still_prints_the_result() -> None:
    with ImageApiEmulator(token=TOKEN) as server:
        server.inject(IMAGE, *[Fault(status=503)] * 2)
        run = cli(str(EVENTS / "direct.json"), env={
            "CLEANUP_ENDPOINT": server.url, "CLEANUP_AUTH_TOKEN": TOKEN, "CLEANUP_MAX_ATTEMPTS": "2",
            "CLEANUP_BACKOFF_BASE_S": "0.01"})
    assert run.returncode == 1
    assert result_of(run)["status"] == "failed"  # the handler would raise; the CLI prints
    assert b"Traceback" not in run.stderr


def test_timeout_gives_a_deadline() -> None:
    with ImageApiEmulator(token=TOKEN) as server:
        server.inject(IMAGE, Fault(hang=20))
        run = cli(str(EVENTS / "direct.json"), "--timeout", "2.6", env={
            "CLEANUP_ENDPOINT": server.url, "CLEANUP_AUTH_TOKEN": TOKEN, "CLEANUP_DEADLINE_MARGIN_S": "0.5"})
    item = result_of(run)["items"][0]
    assert (item["outcome"], item["reason"]) == ("failed", "timeout")


@pytest.mark.parametrize(
    "args", [(), ("--bogus", "x.json"), ("missing-file.json",), ("x.json", "--timeout", "-1"),
             ("x.json", "--timeout", "soon"), ("x.json", "--timeout", "inf"), ("x.json", "--timeout", "nan")],
)
def test_usage_errors_are_one_line_exit_2(args) -> None:
    run = cli(*args)
    assert run.returncode == 2 and run.stdout == b""
    assert len(run.stderr.decode().strip().splitlines()) == 1


def test_configuration_error_is_one_line_exit_2() -> None:
    run = cli(str(EVENTS / "direct.json"), env={"CLEANUP_CONCURRENCY": "1000", "CLEANUP_AUTH_TOKEN": "s3cr3t-tok"})
    assert run.returncode == 2
    lines = run.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "CLEANUP_CONCURRENCY" in lines[0] and "s3cr3t" not in lines[0]


def test_invalid_utf8_is_malformed_json() -> None:
    run = cli("-", "--dry-run", stdin=b"\xff\xfe{}")
    assert run.returncode == 2 and result_of(run)["errors"][0]["code"] == "malformed_json"


def test_help() -> None:
    run = cli("--help")
    assert run.returncode == 0 and b"--emulator" in run.stdout and b"EVENT_FILE" in run.stdout


def test_standalone_emulator_serves_and_stops() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "image_cleanup.emulator", "--image", IMAGE, "--token", "tok"],
        stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        import requests

        assert requests.get(f"{info['url']}/_emulator/images", timeout=5).json() == [IMAGE]
        response = requests.delete(f"{info['url']}/v2/images/{IMAGE}", headers={"X-Auth-Token": "tok"}, timeout=5)
        assert response.status_code == 204
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
