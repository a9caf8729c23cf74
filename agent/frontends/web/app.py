"""`icp serve`'s web app: the browser chat on the same interview loop, store and reports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from agent.engines import Engine, get_engine
from agent.errors import ICPError, InputError, NotFound, StoreError
from agent.frontends.web.auth import TokenGuard
from agent.frontends.web.sessions import IDLE_SECONDS, Interviews
from agent.frontends.web.views import (
    ROLE_TITLES,
    STATUS_LABELS,
    chat_context,
    derived_context,
    download_name,
    session_row,
    step_json,
)
from agent.interview.loop import Interview
from agent.reading.statements import clean_answer
from agent.report.bundle import load_bundle
from agent.report.render import render
from agent.safety import Hostile, load_json
from agent.store.db import Store

HERE = Path(__file__).resolve().parent
MAX_ANSWER_CHARS = 20_000  # about 3,000 words: far more than one spoken answer
MAX_BODY_BYTES = 256 * 1024
SID = re.compile(r"[0-9a-f]{8}")
REPORT_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
log = logging.getLogger("icp.web")
T = TypeVar("T")


class Conflict(ICPError):
    """The request no longer fits the interview: it ended, or the question was answered."""


def http_status(exc: Exception) -> int:
    """The HTTP status for an error the interview code raised."""
    for kind, code in ((NotFound, 404), (InputError, 400), (StoreError, 503), (ICPError, 409)):
        if isinstance(exc, kind):
            return code
    return 500


def start_interview(engine: Engine, company: str, role: str, minutes: float) -> str:
    """Create an interview with its first question, in this thread; returns its id."""
    store = Store()
    try:
        interview = Interview.start(store, engine, company=company, role=role, minutes=minutes)
        flush = getattr(engine, "flush", None)  # the llm engine's record of that first call
        if flush is not None:
            flush()
        return interview.session.id
    finally:
        store.close()


def create_app(
    token: str,
    engine: str = "offline",
    engine_factory: Callable[[str], Engine] = get_engine,
    idle_seconds: float = IDLE_SECONDS,
) -> Starlette:
    """The ASGI app; every request must carry `token` (see `web_auth`).

    `engine` starts new interviews; `engine_factory(name)` makes the engine for each one.
    """
    interviews = Interviews(engine_factory, idle_seconds)

    async def on(sid: str, act: Callable[[Interview], T]) -> T:
        if not SID.fullmatch(sid):
            raise NotFound(f"no interview {sid!r}")
        return await asyncio.wrap_future(interviews.submit(sid, act))

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(roles=ROLE_TITLES, status_labels=STATUS_LABELS, max_chars=MAX_ANSWER_CHARS)
    templates = Jinja2Templates(env=env)

    def page(request: Request, name: str, context: dict, status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def sessions_page(request: Request, error: str = "", status: int = 200) -> Response:
        store = Store()
        try:
            rows = [session_row(s) for s in store.sessions()]
        finally:
            store.close()
        return page(request, "sessions.html.j2", {"sessions": rows, "error": error}, status)

    async def new_interview(request: Request) -> Response:
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        form = {key: values[-1] for key, values in fields.items()}
        company = " ".join(form.get("company", "").split())[:200]
        role = form.get("role", "founder")
        try:
            minutes = float(form.get("minutes", "30"))
        except ValueError:
            minutes = 0
        if role not in ROLE_TITLES or not 1 <= minutes <= 240:
            error = "Pick a role from the list and a time between 1 and 240 minutes."
            return await asyncio.to_thread(sessions_page, request, error, 400)
        sid = await asyncio.to_thread(
            lambda: start_interview(engine_factory(engine), company, role, minutes)
        )
        return RedirectResponse(f"/s/{sid}", status_code=303)

    async def chat_page(request: Request) -> Response:
        sid = request.path_params["sid"]
        try:
            context = await on(sid, chat_context)
        except NotFound:
            context = await asyncio.to_thread(derived_context, sid)  # e.g. a merged profile
        return page(request, "chat.html.j2", context)

    async def state(request: Request) -> Response:
        return JSONResponse(await on(request.path_params["sid"], step_json))

    def report(request: Request) -> Response:
        sid, fmt = request.path_params["sid"], request.path_params["fmt"]
        if fmt not in REPORT_TYPES or not SID.fullmatch(sid):
            raise NotFound("no such report")
        store = Store()
        try:
            bundle = load_bundle(store, sid)
        finally:
            store.close()
        data = render(bundle.profile, bundle.session, bundle.turns, fmt, bundle.usage)
        name = download_name(bundle.session.company, sid, fmt)
        disposition = {"content-disposition": f'attachment; filename="{name}"'}
        return Response(data, media_type=REPORT_TYPES[fmt], headers=disposition)

    async def answer(request: Request) -> Response:
        body = await _json_body(request)
        raw = body.get("answer")
        if not isinstance(raw, str):
            raise InputError("an answer must be text")
        text = clean_answer(raw)  # as the interview will, so its checks cannot fail later
        if len(text) > MAX_ANSWER_CHARS:
            return _error(
                f"That answer is {len(text):,} characters; the limit here is "
                f"{MAX_ANSWER_CHARS:,}. Nothing was saved: shorten it, or send it in two parts.",
                413,
            )
        if not text:
            raise InputError("An empty answer was not saved. Type an answer, or skip the topic.")
        return await _step(on, request, body.get("seq"), lambda i: i.answer(text))

    async def skip(request: Request) -> Response:
        seq = (await _json_body(request)).get("seq")
        return await _step(on, request, seq, lambda i: i.skip())

    async def wrap_up(request: Request) -> Response:
        seq = (await _json_body(request)).get("seq")
        return await _step(on, request, seq, lambda i: i.wrap_up())

    async def on_error(request: Request, exc: Exception) -> Response:
        code = exc.status_code if hasattr(exc, "status_code") else http_status(exc)
        message = str(getattr(exc, "detail", "") or exc) if code != 500 else "internal error"
        if code == 404 and not isinstance(exc, ICPError):
            message = "There is no page at this address."
        if request.url.path.startswith("/api/"):
            return _error(message, code)
        return page(request, "error.html.j2", {"message": message, "code": code}, code)

    async def on_disconnect(request: Request, _exc: Exception) -> Response:
        # The client went away mid-body (closed tab, dropped network): one line, no traceback;
        # nothing was read, so nothing was stored. The response goes nowhere.
        log.warning("client left before sending its whole request: %s", request.url.path)
        return Response(status_code=400)

    routes = [
        Route("/", sessions_page),
        Route("/new", new_interview, methods=["POST"]),
        Route("/s/{sid}", chat_page),
        Route("/s/{sid}/report.{fmt}", report),
        Route("/api/s/{sid}", state),
        Route("/api/s/{sid}/answer", answer, methods=["POST"]),
        Route("/api/s/{sid}/skip", skip, methods=["POST"]),
        Route("/api/s/{sid}/wrap-up", wrap_up, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette):
        yield
        await asyncio.to_thread(interviews.close)  # each open interview settles and saves

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(TokenGuard, token=token)],
        exception_handlers={
            ICPError: on_error,
            ClientDisconnect: on_disconnect,
            404: on_error,
            405: on_error,
            413: on_error,
        },
        max_body_size=MAX_BODY_BYTES,
    )


async def _json_body(request: Request) -> dict:
    try:
        body = load_json(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError("the request body must be JSON") from None
    except Hostile as exc:  # NaN, a 5,000-digit number, 600 levels of brackets: a 400
        raise InputError(f"the request body is refused: {exc}") from None
    if not isinstance(body, dict):
        raise InputError('the request body must be a JSON object like {"answer": "..."}')
    return body


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"type": "error", "error": message}, status_code=status)


async def _step(
    on: Callable[[str, Callable[[Interview], Any]], Awaitable[Any]],
    request: Request,
    seq: object,
    act: Callable[[Interview], object],
) -> Response:
    """Run one answer or command on the interview's thread and stream what it produces.

    The response waits until the step is accepted (so a stale or ended interview gets a plain
    error status); then come the engine's `token` pieces as it words the next question, and
    last the `question` (or `done`) line. A client that leaves does not stop the step.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict | None] = asyncio.Queue()

    def put(event: dict | None) -> None:
        with contextlib.suppress(RuntimeError):  # the server shut down mid-step
            loop.call_soon_threadsafe(queue.put_nowait, event)

    def work(interview: Interview) -> None:
        try:
            pending = interview.question
            if pending is None:
                raise Conflict("This interview has ended; reload the page for its summary.")
            if seq is not None and seq != pending.seq:
                raise Conflict(
                    "That question was already answered (in another tab?). "
                    "Reload the page to see where the interview is."
                )
            put({"type": "accepted"})
            interview.on_token = lambda piece: put({"type": "token", "text": piece})
            try:
                act(interview)
            finally:
                interview.on_token = None
            put(step_json(interview))
        except Exception as exc:
            if not isinstance(exc, ICPError):
                log.exception("interview %s failed", interview.session.id)
            message = str(exc) if isinstance(exc, ICPError) else "internal error; reload the page"
            put({"type": "error", "error": message, "status": http_status(exc)})
            raise
        finally:
            put(None)

    job = asyncio.ensure_future(on(request.path_params["sid"], work))
    job.add_done_callback(_observed)  # a failure is reported as a line or by the handler
    getter = asyncio.ensure_future(queue.get())
    await asyncio.wait({job, getter}, return_when=asyncio.FIRST_COMPLETED)
    if not getter.done():  # the job failed before it could start (no such interview)
        getter.cancel()
        await job  # raises, and the error handler answers
    first = getter.result()
    if first is None or first["type"] == "error":
        first = first or {"error": "no reply", "status": 500}
        return _error(first["error"], first["status"])

    async def lines():
        while (event := await queue.get()) is not None:
            yield json.dumps(event, ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


def _observed(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
