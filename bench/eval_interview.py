"""Evaluate interview quality: simulated personas interviewed through `icp interview --jsonl`.

Run: python bench/eval_interview.py [--minutes 30] [--json] [--baseline OLD.json] [PERSONA.yaml ...]
Default personas: ../shared/personas/*.yaml and tests/personas/*.yaml. Personas listed in
BLIND were written by someone who had not seen the guide's cue lists or the other personas;
the README gives each round's first score, taken before any change it prompted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.sim.evaluate import combine, run_persona  # noqa: E402

# Written without sight of the guide's cue lists, in rounds; see the README for first scores.
BLIND = {
    *("gridwise", "pourplan", "claimpath", "shelfsense", "vaultline"),
    *("mintdesk", "rigwatch", "talentforge", "stackpulse", "auditwise", "tradeloop"),
    *("crewmeal", "voltyard"),
    *("nursebridge", "cratebot", "keyward", "forcewright"),
    *("quotapilot", "kilnworks"),  # typed in a chat: lowercase, fragments, lists
}
TARGETS = (
    "targets: own >= 85%, anywhere >= 95%, quotes 100%, bad evidence 0, repeats 0, "
    "never asked 0, questions <= 30, hygiene >= 95%"
)


def default_personas() -> list[Path]:
    shared = sorted((ROOT.parent / "shared" / "personas").glob("*.yaml"))
    return shared + sorted((ROOT / "tests" / "personas").glob("*.yaml"))


def filed(score) -> float:
    """Of the facts the respondent said, the share in their own section."""
    return score.own_section / score.said if score.said else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("personas", nargs="*", type=Path)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--seeds", type=int, default=3, help="runs per persona (averaged)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--missed",
        action="store_true",
        help="list the facts each one missed, its polarity errors and items made of non-answers",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a saved --json run: adds its own/any per persona, to compare before and after",
    )
    parser.add_argument(
        "--engine-root",
        type=Path,
        help="run the interviews from another checkout (scored by this one): a before and after",
    )
    args = parser.parse_args()
    before = {}
    if args.baseline:
        before = {s["persona"]: s for s in json.loads(args.baseline.read_text(encoding="utf-8"))}
    scores = []
    for path in args.personas or default_personas():
        runs = []
        for seed in range(args.seeds):
            with tempfile.TemporaryDirectory() as home:
                runs.append(
                    run_persona(
                        path, args.minutes, seed=seed, home=Path(home), engine_root=args.engine_root
                    )
                )
        scores.append(combine(runs))
    if args.json:
        print(json.dumps([s.as_dict() for s in scores], indent=2))
        return
    print(
        f"{'persona':<14}{'facts':>6}{'ceil':>6}{'oracle':>7}{'said':>7}{'own':>7}{'any':>7}{'filed':>7}"
        f"{'quotes':>8}{'badev':>6}{'rep':>5}{'turns':>6}{'never':>6}{'hyg':>7}"
        + (f"{'before':>10}" if before else "")
    )
    for s in scores:
        old = before.get(s.persona)
        was = f"{old['own_section']:>5.0%}/{old['anywhere']:.0%}" if old else "-"
        print(
            f"{s.persona:<14}{s.facts:>6}{s.ceiling:>6.0%}{s.oracle:>7.0%}{s.said:>7.0%}"
            f"{s.own_section:>7.0%}{s.anywhere:>7.0%}{filed(s):>7.0%}"
            f"{s.quotes_verbatim:>8.0%}{s.bad_evidence:>6}"
            f"{s.repeated_questions:>5}{s.questions:>6}{len(s.topics_never_asked):>6}"
            f"{s.hygiene:>7.0%}"
            + (f"{was:>10}" if before else "")
            + (" (blind)" if s.persona in BLIND else "")
        )
    mean = statistics.mean
    same = [s for s in scores if s.persona in before]
    if same:
        was_own = mean(before[s.persona]["own_section"] for s in same)
        was_any = mean(before[s.persona]["anywhere"] for s in same)
    was = f"{was_own:>5.0%}/{was_any:.0%}" if same and len(same) == len(scores) else "-"
    print(
        f"{'average':<14}{mean(s.facts for s in scores):>6.1f}"
        f"{mean(s.ceiling for s in scores):>6.0%}{mean(s.oracle for s in scores):>7.0%}"
        f"{mean(s.said for s in scores):>7.0%}"
        f"{mean(s.own_section for s in scores):>7.0%}{mean(s.anywhere for s in scores):>7.0%}"
        f"{mean(filed(s) for s in scores):>7.0%}"
        f"{mean(s.quotes_verbatim for s in scores):>8.0%}"
        f"{mean(s.bad_evidence for s in scores):>6.1f}"
        f"{mean(s.repeated_questions for s in scores):>5.1f}"
        f"{mean(s.questions for s in scores):>6.1f}"
        f"{mean(len(s.topics_never_asked) for s in scores):>6.1f}"
        f"{mean(s.hygiene for s in scores):>7.0%}" + (f"{was:>10}" if before else "")
    )
    if same:
        print(
            f"the {len(same)} personas in the baseline: "
            f"own {was_own:.1%} -> {mean(s.own_section for s in same):.1%}, "
            f"anywhere {was_any:.1%} -> {mean(s.anywhere for s in same):.1%}"
        )
    print(TARGETS)
    print_precision(scores)
    if args.missed:
        for s in scores:
            print(f"{s.persona}: {', '.join(s.missed) or 'nothing missed'}")
            for error in s.polarity_errors:
                print(f"  polarity: {error}")
            for item in s.non_answer_items:
                print(f"  made of a non-answer: {item}")


def print_precision(scores) -> None:
    """What the profiles say wrongly, per persona (sums over its runs, non-answers averaged)."""
    print()
    print(
        f"{'precision':<14}{'nonans':>7}{'insum':>6}{'polar':>6}{'corr':>8}{'lost':>5}"
        f"{'decl':>5}{'loops':>6}{'ctrign':>7}"
    )
    for s in scores:
        corr = f"{s.corrections_honoured}/{s.corrections_said}" if s.corrections_said else "-"
        print(
            f"{s.persona:<14}{s.non_answers_filed:>7.1f}{s.non_answers_in_summary:>6}"
            f"{len(s.polarity_errors):>6}{corr:>8}{s.content_lost:>5}{s.declined_with_content:>5}"
            f"{s.loops_after_done:>6}{s.counters_ignored:>7}"
        )
    total = sum
    said = total(s.corrections_said for s in scores)
    honoured = total(s.corrections_honoured for s in scores)
    print(
        f"{'total':<14}{statistics.mean(s.non_answers_filed for s in scores):>7.2f}"
        f"{total(s.non_answers_in_summary for s in scores):>6}"
        f"{total(len(s.polarity_errors) for s in scores):>6}"
        f"{f'{honoured}/{said}' if said else '-':>8}"
        f"{total(s.content_lost for s in scores):>5}"
        f"{total(s.declined_with_content for s in scores):>5}"
        f"{total(s.loops_after_done for s in scores):>6}"
        f"{total(s.counters_ignored for s in scores):>7}"
    )
    print(
        "precision targets: nonans <= 1 per interview (mean), insum 0, polar 0, corr all, "
        "lost 0, decl 0, loops <= 2 in total, ctrign 0"
    )


if __name__ == "__main__":
    main()
