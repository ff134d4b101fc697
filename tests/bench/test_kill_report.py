"""The kill trials' table and bench rows say what the trials found (no daemon is run here;
tests/faults/test_process_kill.py runs the trials themselves)."""

from __future__ import annotations

from bench.kill_trials import AIMS, KillReport, TrialResult


def _report() -> KillReport:
    report = KillReport("sqlite")
    for number, aim in enumerate(AIMS * 2, start=1):
        step = aim.split(":")[0]
        report.results.append(TrialResult(number, aim, step if number != 4 else None))
    report.results[2].violations = {"orphaned": ["2 process(es) of run daemon-x alive"]}
    return report


def test_the_table_counts_landed_kills_per_step_and_violations_by_kind() -> None:
    report = _report()
    table = report.render()

    assert report.trials == 12 and report.survived == 11
    assert report.per_step()["train:save"] == (2, 1)  # trial 4 landed between jobs
    assert report.per_step()["sync"] == (2, 2)
    assert "violations: lost 0, duplicated 0, orphaned 1, stuck 0" in table
    assert "trial 3 (train) orphaned: 2 process(es)" in table


def test_the_bench_rows_hold_targets_a_reader_can_check() -> None:
    rows = {row.name: row for row in _report().rows()}

    survived = rows["trials survived"]
    assert (survived.measured, survived.target, survived.status) == (11, 12, "MISSED")
    violations = rows["violations"]
    assert (violations.measured, violations.status) == (1, "MISSED")
    assert violations.details["orphaned"] == 1
    landed = rows["kills that landed inside a job"]
    assert landed.measured == 11 and landed.baseline == 12
    assert landed.details["per_step"]["train:save"] == {"kills": 2, "landed": 1}
