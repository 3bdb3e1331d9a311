"""`schedule preview` through click's CliRunner, without an app."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from app.commands.schedule import schedule_cli

MONDAYS = json.dumps(
    {
        "start": "2026-01-01T09:00",
        "timezone": "Europe/Berlin",
        "trigger": "monthly",
        "days": ["mon"],
        "occurrence": 1,
    }
)
AFTER = "2026-01-01T00:00:00+00:00"


def _run(*args: str):
    return CliRunner().invoke(schedule_cli, ["preview", *args])


def test_single_rule_prints_one_instant_per_line():
    result = _run("--rule", MONDAYS, "--after", AFTER, "--count", "3")
    assert result.exit_code == 0
    assert result.stdout == (
        "2026-01-05T09:00:00+01:00\n2026-02-02T09:00:00+01:00\n2026-03-02T09:00:00+01:00\n"
    )
    assert result.stderr == ""


def test_count_defaults_to_twenty():
    result = _run("--rule", MONDAYS, "--after", AFTER)
    assert len(result.stdout.splitlines()) == 20


def test_after_defaults_to_now():
    rule = json.dumps({"start": "2026-01-01T00:00", "trigger": "hourly"})
    result = _run("--rule", rule, "--count", "1")
    fire = datetime.fromisoformat(result.stdout.strip())
    assert 0 < (fire - datetime.now(UTC)).total_seconds() <= 3600


def test_an_empty_preview_prints_nothing():
    rule = json.dumps({"start": "2026-01-01T07:00", "trigger": "once"})
    result = _run("--rule", rule, "--after", "2027-01-01T00:00:00Z")
    assert (result.exit_code, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            '{"start": "2026-01-01T07:00", "trigger": "daily", "days": ["mom"]}',
            "days: unknown weekday 'mom'",
        ),
        ('{"start": "2026-01-01T07:00", "trigger": "daily", "every": 0}', "every: "),
        ('{"start": "2026-01-01T07:00", "trigger": "cron", "cron": "61 * * * *"}', "cron: "),
        ('{"start": "2026-01-01T07:00", "trigger": "daily", "tz": "UTC"}', "tz: unknown field"),
        ('{"start": "2026-01-01T07:00", "trigger": ', "rule: invalid JSON"),
        ("[]", "rule: must be a JSON object"),
    ],
)
def test_bad_rule_exits_2_with_the_error_on_stderr(rule, message):
    result = _run("--rule", rule, "--after", AFTER)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


@pytest.mark.parametrize("after", ["yesterday", "2026-01-01T00:00:00", "2026-13-01T00:00Z"])
def test_bad_after_exits_2(after):
    result = _run("--rule", MONDAYS, "--after", after)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("after: ")


@pytest.mark.parametrize("args", [(), ("--rule", MONDAYS, "--batch", "-")])
def test_exactly_one_of_rule_or_batch(args):
    result = _run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""


def test_count_must_be_a_non_negative_number():
    assert _run("--rule", MONDAYS, "--count", "-1").exit_code == 2
    assert _run("--rule", MONDAYS, "--count", "x").exit_code == 2


def test_batch_answers_each_line_in_order(tmp_path):
    lines = [
        json.dumps({"rule": json.loads(MONDAYS), "after": AFTER, "count": 2}),
        json.dumps(
            {
                "rule": {"start": "2026-01-01T07:00", "trigger": "daily", "days": ["mom"]},
                "after": AFTER,
            }
        ),
        "{not json",
        json.dumps({"rule": {"start": "2026-01-01T07:00", "trigger": "once"}, "after": AFTER}),
        json.dumps({"rule": {"start": "2026-01-01T07:00", "trigger": "daily"}, "after": "soon"}),
        json.dumps({"rule": {"start": "2026-01-01T07:00", "trigger": "daily"}, "count": -1}),
        json.dumps({"after": AFTER}),
        json.dumps({"rule": {"start": "2026-01-01T07:00", "trigger": "daily"}, "extra": 1}),
        "[1, 2]",
        "",
    ]
    batch = tmp_path / "rules.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run("--batch", str(batch))
    assert result.exit_code == 0
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(lines)
    assert answers[0] == {"fires": ["2026-01-05T09:00:00+01:00", "2026-02-02T09:00:00+01:00"]}
    assert answers[1] == {"error": "days: unknown weekday 'mom'"}
    assert answers[2]["error"].startswith("line: invalid JSON")
    assert answers[3] == {"fires": ["2026-01-01T07:00:00+00:00"]}
    assert answers[4]["error"].startswith("after: ")
    assert answers[5]["error"].startswith("count: ")
    assert answers[6] == {"error": "rule: is required"}
    assert answers[7] == {"error": "extra: unknown field"}
    assert answers[8]["error"].startswith("line: ")
    assert answers[9] == {"error": "line: is empty"}


def test_batch_line_defaults_come_from_the_options(tmp_path):
    batch = tmp_path / "rules.jsonl"
    batch.write_text(json.dumps({"rule": json.loads(MONDAYS)}) + "\n", encoding="utf-8")
    result = _run("--batch", str(batch), "--after", AFTER, "--count", "1")
    assert result.stdout == '{"fires": ["2026-01-05T09:00:00+01:00"]}\n'


def test_batch_reads_stdin():
    line = json.dumps({"rule": json.loads(MONDAYS), "after": AFTER, "count": 1})
    result = CliRunner().invoke(schedule_cli, ["preview", "--batch", "-"], input=line + "\n")
    assert result.stdout == '{"fires": ["2026-01-05T09:00:00+01:00"]}\n'


def test_unreadable_batch_file_fails(tmp_path):
    result = _run("--batch", str(tmp_path / "missing.jsonl"))
    assert result.exit_code != 0
    assert result.stdout == ""
    directory = _run("--batch", str(tmp_path))
    assert directory.exit_code != 0
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    undecodable = _run("--batch", str(binary))
    assert undecodable.exit_code != 0
