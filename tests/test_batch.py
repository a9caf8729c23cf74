"""`icp batch`: new versions with provenance, failure isolation, resume after an interrupt."""

import json
import threading
from collections import Counter

import pytest

from agent.engines import get_engine
from agent.errors import InputError
from agent.interview.contract import Engine
from agent.profile.models import Profile
from agent.quarterly import batch
from agent.quarterly.importer import import_files
from agent.quarterly.reextract import guide_hash, reextract
from agent.store import runs
from tests.conftest import icp, persona_paths, run_persona

CALL = """\
Interviewer: Think of the customers you'd most like to clone. What kind of companies are they?
{name}: Logistics brokers with {low} to {high} employees in the Midwest.
Interviewer: What happened just before they started looking?
{name}: A new VP of operations, usually within 90 days of joining.
Interviewer: Who do you never want to sell to?
{name}: Asset-heavy carriers, because they always build in-house.
"""


class CountingEngine(Engine):
    """The offline engine, counting answers per session; raises on chosen sessions."""

    name = "offline"

    def __init__(self, calls: Counter, fail: set[str] = frozenset(), interrupt: set[str] = ()):
        self.inner = get_engine("offline")
        self.calls, self.fail, self.interrupt = calls, fail, interrupt
        self.session = ""
        self.lock = threading.Lock()

    def bind(self, store, session_id: str) -> None:
        self.session = session_id

    def word(self, action, profile, context):
        return self.inner.word(action, profile, context)

    def extract(self, answer, turn, topic, context):
        with self.lock:
            self.calls[self.session] += 1
        if self.session in self.interrupt:
            raise KeyboardInterrupt
        if self.session in self.fail:
            raise RuntimeError("model returned garbage")
        return self.inner.extract(answer, turn, topic, context)


def make_sessions(store, tmp_path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = tmp_path / f"call{i}.txt"
        path.write_text(CALL.format(name="Lee", low=50 + i, high=500 + i), encoding="utf-8")
        paths.append(path)
    done = import_files(store, paths, get_engine(), respondent=("Lee",), company="Haulmatch")
    return [d.session.id for d in done]


def run(store, ids, engine_factory, **kw):
    sessions = batch.select(store, tuple(ids))
    plan = batch.prepare(
        store, sessions, "offline", out=kw.pop("out", None), fmt=kw.pop("fmt", "none"), **kw
    )
    return plan, batch.execute(store, plan, engine_factory, concurrency=kw.get("concurrency", 2))


def test_reextraction_reproduces_the_interviews_own_profile(store, engine):
    interview = run_persona(store, engine, persona_paths()[0])
    sid = interview.session.id
    again = reextract(store.session(sid), store.turns(sid), engine)
    assert again.model_dump(exclude={"version"}) == interview.profile.model_dump(
        exclude={"version"}
    )


def test_batch_adds_versions_with_provenance_and_reports(store, tmp_path):
    ids = make_sessions(store, tmp_path, 3)
    calls = Counter()
    out = tmp_path / "reports"
    plan, rows = run(store, ids, lambda: CountingEngine(calls), out=out, fmt="md")
    assert [r.status for r in rows] == ["done"] * 3
    assert set(calls) == set(ids) and all(n == 3 for n in calls.values())
    for sid, row in zip(ids, rows, strict=True):
        v1, v2 = store.profile(sid, 1), store.profile(sid, 2)
        assert row.version == 2 and v2.meta["run"] == plan.run.id
        assert v2.meta == {**v2.meta, "kind": "batch", "guide": guide_hash(), "based_on": 1}
        # Same guide, same engine: the same profile, nothing overwritten.
        assert v1.data == {**v2.data, "version": 1}
        assert row.changes == {"added": 0, "removed": 0, "changed": 0, "moved": 0, "sections": 0}
        assert row.report == str(out.resolve() / f"haulmatch-{sid}-v2.md")
        assert "Asset-heavy carriers" in (out / f"haulmatch-{sid}-v2.md").read_text("utf-8")
    assert "none" in batch.format_table(rows)


def test_a_failing_session_is_isolated_and_reported(store, tmp_path):
    ids = make_sessions(store, tmp_path, 4)
    calls = Counter()
    _, rows = run(store, ids, lambda: CountingEngine(calls, fail={ids[1]}))
    assert [r.status for r in rows] == ["done", "failed", "done", "done"]
    assert rows[1].error == "RuntimeError: model returned garbage"
    assert store.profile(ids[1]).version == 1  # nothing half-stored
    assert all(store.profile(sid).version == 2 for sid in ids if sid != ids[1])
    with pytest.raises(batch.BatchFailed) as exc:
        batch.check(rows)
    assert str(exc.value) == (
        f"1 of 4 sessions failed (first: {ids[1]}: RuntimeError: model returned garbage); "
        "the others completed"
    )
    assert "model returned garbage" in batch.format_table(rows)


def test_interrupted_batch_resumes_without_redoing_finished_sessions(store, tmp_path):
    ids = make_sessions(store, tmp_path, 5)
    calls = Counter()
    sessions = batch.select(store, tuple(ids))
    plan = batch.prepare(store, sessions, "offline", fmt="none")
    with pytest.raises(batch.BatchInterrupted, match=r"2 of 5 sessions finished"):
        batch.execute(store, plan, lambda: CountingEngine(calls, interrupt={ids[2]}), concurrency=1)
    assert [i.status for i in runs.items(store, plan.run.id)] == ["done"] * 2 + ["pending"] * 3
    first_calls = Counter(calls)

    again = batch.prepare(store, sessions, "offline", fmt="none")
    assert again.resumed and again.run.id == plan.run.id and again.already == 2
    rows = batch.execute(store, again, lambda: CountingEngine(calls), concurrency=2)
    assert [r.status for r in rows] == ["done"] * 5
    # The two finished before the interrupt were not extracted again, and got one version each.
    assert all(calls[sid] == first_calls[sid] for sid in ids[:2])
    assert all(store.profile(sid).version == 2 for sid in ids)

    # Finished: the same command starts a new run; --force would have too.
    fresh = batch.prepare(store, sessions, "offline", fmt="none")
    assert not fresh.resumed and fresh.already == 0


def test_force_starts_over_and_an_extracted_session_only_renders_on_resume(
    store, tmp_path, monkeypatch
):
    ids = make_sessions(store, tmp_path, 2)
    calls = Counter()
    sessions = batch.select(store, tuple(ids))
    out = tmp_path / "out"
    plan = batch.prepare(store, sessions, "offline", out=out, fmt="md")
    import agent.report.render

    real = agent.report.render.write_report

    def interrupted(profile, session, turns, path, *rest):
        if session.id == ids[1]:
            raise KeyboardInterrupt
        return real(profile, session, turns, path, *rest)

    monkeypatch.setattr(agent.report.render, "write_report", interrupted)
    with pytest.raises(batch.BatchInterrupted):
        batch.execute(store, plan, lambda: CountingEngine(calls), concurrency=1)
    item = runs.items(store, plan.run.id)[1]
    assert (item.status, item.version) == ("extracted", 2)
    monkeypatch.setattr(agent.report.render, "write_report", real)
    before = Counter(calls)
    again = batch.prepare(store, sessions, "offline", out=out, fmt="md")
    rows = batch.execute(store, again, lambda: CountingEngine(calls), concurrency=1)
    assert calls == before  # the stored version was rendered, not extracted again
    assert rows[1].version == 2 and (out / f"haulmatch-{ids[1]}-v2.md").exists()

    forced = batch.prepare(store, sessions, "offline", out=out, fmt="md", force=True)
    assert forced.run.id != plan.run.id and forced.already == 0


def test_selection(store, tmp_path):
    ids = make_sessions(store, tmp_path, 2)
    assert [s.id for s in batch.select(store, everything=True)] == ids
    assert [s.id for s in batch.select(store, since="2000-01-01")] == ids
    assert batch.select(store, since="2999-01-01") == []
    with pytest.raises(InputError, match="not a date"):
        batch.select(store, since="last quarter")
    with pytest.raises(InputError, match="not both"):
        batch.select(store, (ids[0],), everything=True)
    with pytest.raises(InputError, match="name the sessions"):
        batch.select(store)


@pytest.mark.slow
def test_cli_batch_table_json_and_exit_code(store, tmp_path):
    ids = make_sessions(store, tmp_path, 3)
    out = tmp_path / "out"
    # A folder where one report should go makes exactly that session fail.
    (out / f"haulmatch-{ids[0]}-v2.md").mkdir(parents=True)
    result = icp("batch", "--all", "--format", "md", "--out", str(out), "--concurrency", "2")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["SESSION", "COMPANY", "RESULT"]
    assert f"{ids[0]}   Haulmatch          failed" in result.stdout
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"icp: error: 1 of 3 sessions failed (first: {ids[0]}: cannot write")
    )
    result = icp("batch", *ids[1:], "--format", "none", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["session"] for r in doc["sessions"]] == ids[1:]
    assert [r["version"] for r in doc["sessions"]] == [3, 3]
    assert Profile.model_validate(store.profile(ids[1]).data).version == 3


@pytest.mark.slow
def test_offline_batch_in_worker_processes(store, tmp_path):
    ids = make_sessions(store, tmp_path, batch.PROCESS_MINIMUM)
    plan = batch.prepare(store, batch.select(store, tuple(ids)), "offline", fmt="none")
    rows = batch.execute(store, plan, get_engine, concurrency=2)
    assert [r.status for r in rows] == ["done"] * len(ids)
    assert all(store.profile(sid).version == 2 for sid in ids)
    assert all(
        store.profile(sid, 2).data == {**store.profile(sid, 1).data, "version": 2} for sid in ids
    )


def test_an_llm_batch_report_has_the_model_usage_appendix_of_icp_report(store, tmp_path):
    from agent.engines.llm.engine import LLMEngine
    from agent.report.bundle import load_bundle
    from agent.report.render import render
    from tests.llm_fakes import settings
    from tests.test_llm_engine import fake

    (sid,) = make_sessions(store, tmp_path, 1)
    assert store.model_calls(sid) == []  # imported offline: the batch makes the only calls
    out = tmp_path / "reports"
    make = lambda: LLMEngine(settings(), model=fake(), notify=lambda _notice: None)  # noqa: E731
    _, rows = run(store, [sid], make, out=out, fmt="md")
    assert [r.status for r in rows] == ["done"]
    calls = store.model_calls(sid)
    assert {"extract", "synthesis"} <= {c["purpose"] for c in calls}
    written = (out / f"haulmatch-{sid}-v2.md").read_text("utf-8")
    appendix = written[written.index("## Appendix: model usage") :]
    assert appendix.startswith(f"## Appendix: model usage\n\n{len(calls)} model calls")
    bundle = load_bundle(store, sid)
    assert bundle.profile.version == 2
    assert (
        written == render(bundle.profile, bundle.session, bundle.turns, "md", bundle.usage).decode()
    )
