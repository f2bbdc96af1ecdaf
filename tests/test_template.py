"""template.yaml, checked offline: cfn-lint, the handler, settings drift, the rule pattern."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import decode

from image_cleanup.settings import Settings, env_name, load_settings
from tests.helpers import ROOT, load_event

TEMPLATE = ROOT / "template.yaml"
FUNCTION = "CleanupFunction"


@pytest.fixture(scope="module")
def template() -> dict:
    document, problems = decode(str(TEMPLATE))
    assert not problems and document is not None
    return document


def _function(template: dict) -> dict:
    return template["Resources"][FUNCTION]["Properties"]


def test_cfn_lint_is_clean() -> None:
    linter = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    run = subprocess.run([linter, "--format", "parseable", str(TEMPLATE)], capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == ""


def test_handler_resolves_to_a_real_function(template) -> None:
    module_name, function_name = _function(template)["Handler"].rsplit(".", 1)
    assert (ROOT / f"{module_name}.py").is_file()
    handler = getattr(importlib.import_module(module_name), function_name)
    assert callable(handler)
    assert handler.__code__.co_varnames[:2] == ("event", "context")


def test_environment_matches_the_settings_model(template) -> None:
    variables = set(_function(template)["Environment"]["Variables"])
    model = {env_name(field) for field in Settings.model_fields}
    platform_only = {"RUNTIME_PROJECT_ID"}  # preset by FunctionGraph, not a deployment setting
    assert variables - model == set(), "the template sets variables the settings model does not read"
    assert model - platform_only - variables == set(), "settings the template does not expose"


def test_template_defaults_load_as_valid_settings(template, monkeypatch) -> None:
    parameters = template["Parameters"]
    for name, value in _function(template)["Environment"]["Variables"].items():
        default = parameters[value["Ref"]].get("Default", "")
        monkeypatch.setenv(name, str(default))
    settings = load_settings()
    assert settings.dry_run is True  # a first deploy deletes nothing
    assert settings.base_url == "https://ims.cn-north-4.myhuaweicloud.com"
    assert settings.concurrency * int(parameters["ReservedConcurrency"]["Default"]) * 20 <= 200


def test_secret_parameters_are_no_echo(template) -> None:
    parameters = template["Parameters"]
    for name in ("AccessKey", "SecretKey", "SecurityToken", "AuthToken"):
        assert parameters[name]["NoEcho"] is True


def test_rule_pattern_matches_the_eventbridge_sample(template) -> None:
    sample = load_event("eventbridge.json")
    pattern = _function(template)["Events"]["ImageExpiredRule"]["Properties"]["Pattern"]
    assert sample["detail-type"] in pattern["detail-type"]
    source_parameter = pattern["source"][0]["Ref"]
    assert template["Parameters"][source_parameter]["Default"] == sample["source"]
    settings = Settings()
    assert sample["detail-type"] in settings.event_types


def test_queue_trigger_reports_batch_item_failures_and_redrives(template) -> None:
    sqs = _function(template)["Events"]["BulkCleanupQueue"]["Properties"]
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert sqs["BatchSize"] <= int(template["Parameters"]["MaxImages"]["Default"])
    queue = template["Resources"]["CleanupQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CleanupDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * _function(template)["Timeout"]
    destinations = _function(template)["EventInvokeConfig"]["DestinationConfig"]
    assert {"OnSuccess", "OnFailure"} <= set(destinations)
