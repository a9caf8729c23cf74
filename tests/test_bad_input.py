"""Bad and unusual answers go through the interview, export and every report format intact."""

import json

from tests.conftest import icp, pdf_text

ANSWERS = [
    "We sell <script>alert('x')</script> software & more.",
    "Clinics in Tel Aviv: מרפאות שיניים עצמאיות, and in 東京の歯科医院 too 🦷🙂.",
    'They said "{{ 7*7 }} is our {% raw %} problem" <img src="file:///etc/passwd">',
    "Control\x00chars\x07 here\x1b[31m and a tab\tinside.",
    "Big paste: " + ("NetSuite customers with 200 employees. " * 2600),  # ~100 KB
    "",
    "I don't know.",
]


def run(answers: list[str]) -> tuple[str, list[dict]]:
    stdin = "".join(json.dumps({"answer": a}) + "\n" for a in answers)
    result = icp("interview", "--jsonl", input=stdin)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return lines[0]["session"], lines


def test_bad_answers_are_stored_escaped_and_rendered(tmp_path):
    sid, lines = run(ANSWERS)
    errors = [m for m in lines if m["type"] == "error"]
    assert len(errors) == 1 and "empty answer" in errors[0]["message"]
    profile = json.loads(icp("export", sid).stdout)
    texts = " ".join(i["text"] for s in profile["sections"].values() for i in s["items"])
    assert "Controlchars here[31m and a tab\tinside." in texts or "Controlchars" in texts
    assert "\x00" not in texts and "\x1b" not in texts
    quotes = [i["text"] for i in profile["sections"]["customer_language"]["items"]]
    assert "{{ 7*7 }} is our {% raw %} problem" in quotes

    html = tmp_path / "r.html"
    assert icp("report", sid, "--out", str(html)).returncode == 0
    page = html.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert '<img src="file:///etc/passwd">' not in page
    assert "{{ 7*7 }}" in page and ">49<" not in page
    assert "מרפאות" in page and "東京" in page and "🦷" in page

    md = tmp_path / "r.md"
    assert icp("report", sid, "--out", str(md)).returncode == 0
    assert "<script>" not in md.read_text(encoding="utf-8")

    pdf = tmp_path / "r.pdf"
    assert icp("report", sid, "--out", str(pdf)).returncode == 0
    text = pdf_text(pdf)
    assert "{{ 7*7 }}" in text and "<script>" in text  # shown literally, never run


def test_invalid_utf8_on_stdin_is_a_one_line_error():
    result = icp("interview", "--jsonl", input=b'{"answer": "caf\xe9"}\n')
    assert result.returncode == 1
    assert "not valid UTF-8" in result.stderr.decode()
    assert b"Traceback" not in result.stderr


def test_a_non_string_answer_is_refused_not_stored():
    sid, _ = run([])
    result = icp("resume", sid, "--jsonl", input='{"answer": 42}\n')
    assert result.returncode == 0
    assert any(
        json.loads(x).get("message") == "an answer must be text" for x in result.stdout.splitlines()
    )
