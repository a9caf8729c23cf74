"""Benchmark: `icp serve` over real HTTP (uvicorn on loopback), offline engine.

Per answer: time to the first streamed line and to the next question (p50/p95); the chat page
as the transcript grows; report downloads. Run: python bench/bench_web.py [PERSONA.yaml]
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["ICP_HOME"] = tempfile.mkdtemp(prefix="icp-bench-web-")

import httpx  # noqa: E402

from agent.frontends.web.app import create_app  # noqa: E402
from agent.frontends.web.auth import new_token  # noqa: E402
from agent.frontends.web.serve import bind, server  # noqa: E402
from agent.sim.respondent import SimulatedRespondent, load_persona  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<28} n={len(values):<3} p50={statistics.median(values):7.1f} ms"
        f"  p95={percentile(values, 95):7.1f} ms  max={max(values):7.1f} ms"
    )


def main() -> None:
    persona_path = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    persona_path = persona_path or sorted((ROOT / "tests" / "personas").glob("*.yaml"))[0]
    persona = load_persona(persona_path)
    token = new_token()
    sock = bind("127.0.0.1", 0)
    web = server(create_app(token))
    thread = threading.Thread(target=web.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    first_ms, step_ms, page_ms = [], [], []
    # Browsers and curl send with TCP_NODELAY; without it Nagle adds ~40 ms to every request.
    nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    headers = {"x-icp-token": token}
    with httpx.Client(base_url=base, headers=headers, timeout=60, transport=nodelay) as http:
        while not web.started:
            time.sleep(0.01)
        form = {"company": persona.company, "role": "founder", "minutes": "30"}
        sid = http.post("/new", data=form).headers["location"].rsplit("/", 1)[-1]
        respondent = SimulatedRespondent(persona)
        question = http.get(f"/api/s/{sid}").json()["question"]
        while question:
            answer = respondent.answer(question["text"], question["topic"])
            body = {"answer": answer, "seq": question["seq"]}
            t0 = time.perf_counter()
            with http.stream("POST", f"/api/s/{sid}/answer", json=body) as r:
                lines = r.iter_lines()
                event = json.loads(next(lines))
                first_ms.append((time.perf_counter() - t0) * 1000)
                for rest in lines:
                    event = json.loads(rest) if rest else event
            step_ms.append((time.perf_counter() - t0) * 1000)
            question = event.get("question")
            t0 = time.perf_counter()
            http.get(f"/s/{sid}").raise_for_status()
            page_ms.append((time.perf_counter() - t0) * 1000)
        downloads = {}
        for fmt in ("md", "html", "pdf"):
            t0 = time.perf_counter()
            size = len(http.get(f"/s/{sid}/report.{fmt}").content)
            downloads[fmt] = ((time.perf_counter() - t0) * 1000, size)
    web.should_exit = True
    thread.join(10)
    print(f"persona {persona_path.name}: {len(step_ms)} answers over HTTP")
    print(line("answer -> first line", first_ms))
    print(line("answer -> next question", step_ms))
    print(line("chat page (resume + render)", page_ms))
    for fmt, (ms, size) in downloads.items():
        print(f"download report.{fmt:<4}              {ms:7.1f} ms  ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
