"""`icp serve`'s web app: the browser chat on the same interview loop, store and reports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from collections import OrderedDict
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

from agent.engines import get_engine
from agent.errors import ICPError, InputError, NotFound, StoreError
from agent.frontends.web.auth import BY_HEADER, FORM_FIELD, TokenGuard, form_token
from agent.frontends.web.sessions import IDLE_SECONDS, Interviews
from agent.frontends.web.undo import undo_wrap_up
from agent.frontends.web.views import (
    chat_context,
    derived_context,
    download_name,
    labels,
    role_titles,
    session_row,
    status_json,
    step_json,
    topic_title,
)
from agent.interview.contract import Engine
from agent.interview.loop import Interview
from agent.joint import review as joint_review
from agent.reading.statements import clean_answer
from agent.report.bundle import load_bundle
from agent.report.render import render
from agent.safety import Hostile, load_json
from agent.store.db import Store

HERE = Path(__file__).resolve().parent
MAX_ANSWER_CHARS = 20_000  # about 3,000 words: far more than one spoken answer
MAX_BODY_BYTES = 256 * 1024
MAX_DRAFT_CHARS = 100_000  # a draft may be over the answer limit: it is the typist's text
STARTS_KEPT = 256  # recent Start clicks remembered, so a double click starts one interview
SID = re.compile(r"[0-9a-f]{8}")
REPORT_TYPES = {  # identifiers: report formats and their media types
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
        engine.flush()  # the llm engine's record of that first call
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
    starts: OrderedDict[str, asyncio.Future[str]] = OrderedDict()

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
    env.globals.update(
        roles=role_titles(),
        progress_labels=labels(),
        max_chars=MAX_ANSWER_CHARS,
        form_token=form_token(token),
        form_field=FORM_FIELD,
        sections=joint_review.SECTION_TITLES,
    )
    templates = Jinja2Templates(env=env)

    def page(request: Request, name: str, context: dict, status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def sessions_page(request: Request, error: str = "", status: int = 200) -> Response:
        store = Store()
        try:
            rows = [session_row(s) for s in store.sessions()]
        finally:
            store.close()
        context = {"sessions": rows, "error": error, "start_key": secrets.token_urlsafe(12)}
        return page(request, "sessions.html.j2", context, status)

    async def new_interview(request: Request) -> Response:
        fields = parse_qs((await request.body()).decode("utf-8", "replace"))
        form = {key: values[-1] for key, values in fields.items()}
        given = form.get(FORM_FIELD, "")
        if not request.scope.get(BY_HEADER) and not secrets.compare_digest(
            given.encode(), form_token(token).encode()
        ):
            error = (
                "This form is from an earlier run of icp serve (or another page); nothing was "
                "started. Start the interview again from this page."
            )
            return await asyncio.to_thread(sessions_page, request, error, 403)
        company = " ".join(form.get("company", "").split())[:200]
        role = form.get("role", "founder")
        try:
            minutes = float(form.get("minutes", "30"))
        except ValueError:
            minutes = 0
        if role not in role_titles() or not 1 <= minutes <= 240:
            error = "Pick a role from the list and a time between 1 and 240 minutes."
            return await asyncio.to_thread(sessions_page, request, error, 400)
        key = form.get("start_key", "")[:64]
        if key and key in starts:  # a second click on the same form: the same interview
            sid = await asyncio.shield(starts[key])
            return RedirectResponse(f"/s/{sid}", status_code=303)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if key:
            starts[key] = future
            while len(starts) > STARTS_KEPT:
                starts.popitem(last=False)
        try:
            sid = await asyncio.to_thread(
                lambda: start_interview(engine_factory(engine), company, role, minutes)
            )
        except BaseException as exc:
            starts.pop(key, None)
            future.set_exception(exc)
            future.exception()  # observed: the waiting click gets the error too
            raise
        future.set_result(sid)
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

    async def review_page(request: Request) -> Response:
        sid = _sid(request)
        doc = await asyncio.to_thread(_with_store, lambda st: joint_review.review_doc(st, sid))
        store = Store()
        try:
            session = session_row(store.session(sid))
        finally:
            store.close()
        context = {"session": session, "doc": doc, "item_labels": _item_labels()}
        return page(request, "review.html.j2", context)

    async def review_api(request: Request) -> Response:
        sid = _sid(request)
        if request.method == "GET":
            doc = await asyncio.to_thread(_with_store, lambda st: joint_review.review_doc(st, sid))
            return JSONResponse(doc)
        body = await _json_body(request)

        def save(store: Store) -> dict:
            saved = joint_review.save_changes(
                store, sid, body.get("version"), body.get("by"), body.get("changes")
            )
            return {**saved, "review": joint_review.review_doc(store, sid)}

        return JSONResponse(await asyncio.to_thread(_with_store, save))

    async def draft(request: Request) -> Response:
        sid = _sid(request)
        body = await _json_body(request)
        text, seq = body.get("text"), body.get("seq")
        if not isinstance(text, str) or not isinstance(seq, int) or isinstance(seq, bool):
            raise InputError('a draft is {"seq": N, "text": "..."}')
        if len(text) > MAX_DRAFT_CHARS:
            return _error(f"A draft may be up to {MAX_DRAFT_CHARS:,} characters.", 413)
        text = text if text.strip() else ""
        await asyncio.to_thread(_with_store, lambda st: _save_draft(st, sid, seq, text))
        return JSONResponse({"saved": bool(text)})

    async def undo(request: Request) -> Response:
        seq = (await _json_body(request)).get("seq")

        def act(interview: Interview) -> dict:
            pending = interview.question
            if pending is None or (seq is not None and seq != pending.seq):
                raise Conflict("The interview moved on; reload the page.")
            undo_wrap_up(interview)
            return step_json(interview)

        return JSONResponse(await on(_sid(request), act))

    async def answer(request: Request) -> Response:
        body = await _json_body(request)
        raw = body.get("answer")
        if not isinstance(raw, str):
            raise InputError("an answer must be text")
        text = clean_answer(raw)  # as the interview will, so its checks cannot fail later
        if len(text) > MAX_ANSWER_CHARS:  # code points, as the page counts them
            return _error(
                f"That answer is {len(text):,} characters; the limit here is "
                f"{MAX_ANSWER_CHARS:,}. Nothing was saved: shorten it, or send it in two parts.",
                413,
            )
        if not text:
            raise InputError("An empty answer was not saved. Type an answer, or skip the topic.")
        return await _step(on, request, body.get("seq"), lambda i: i.answer(text), drop=True)

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
        Route("/s/{sid}/review", review_page),
        Route("/api/s/{sid}", state),
        Route("/api/s/{sid}/answer", answer, methods=["POST"]),
        Route("/api/s/{sid}/skip", skip, methods=["POST"]),
        Route("/api/s/{sid}/wrap-up", wrap_up, methods=["POST"]),
        Route("/api/s/{sid}/undo-wrap-up", undo, methods=["POST"]),
        Route("/api/s/{sid}/draft", draft, methods=["PUT", "POST"]),
        Route("/api/s/{sid}/review", review_api, methods=["GET", "POST"]),
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


def _sid(request: Request) -> str:
    sid = request.path_params["sid"]
    if not SID.fullmatch(sid):
        raise NotFound(f"no interview {sid!r}")
    return sid


def _with_store(act: Callable[[Store], T]) -> T:
    """Run `act` with a Store of its own, in this thread."""
    store = Store()
    try:
        return act(store)
    finally:
        store.close()


def _save_draft(store: Store, sid: str, seq: int, text: str) -> None:
    info = store.session(sid)
    if info.id != sid or info.status == "complete":
        raise Conflict("This interview has ended; there is nothing to keep a draft for.")
    store.save_draft(sid, seq, text)


def _item_labels() -> dict[str, str]:
    from agent.lang import load_pack

    return load_pack().ui.item_status


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
    drop: bool = False,
) -> Response:
    """Run one answer or command on the interview's thread and stream what it produces.

    The response waits until the step is accepted (so a stale or ended interview gets a plain
    error status); then a `topic` line as soon as the next question's topic is planned (with
    the panel's status), the engine's `token` pieces as it words it, and last the `question`
    (or `done`) line. A client that leaves does not stop the step. `drop`: the step answers
    the question, so the draft kept for it goes.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict | None] = asyncio.Queue()

    def put(event: dict | None) -> None:
        with contextlib.suppress(RuntimeError):  # the server shut down mid-step
            loop.call_soon_threadsafe(queue.put_nowait, event)

    def announce(interview: Interview, action: Any) -> None:
        topic = action.asked_topic
        status = status_json(interview, asking=topic)
        put({"type": "topic", "topic": topic, "topic_title": topic_title(topic), "status": status})

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
            interview.on_question = lambda action: announce(interview, action)
            try:
                act(interview)
            finally:
                interview.on_token = None
                interview.on_question = None
                if drop and _answered(interview, pending.seq):
                    interview.store.drop_draft(interview.session.id, pending.seq)
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


def _answered(interview: Interview, seq: int) -> bool:
    """Whether something was stored after the question `seq` (the answer, at least)."""
    turns = interview.store.turns(interview.session.id)
    return bool(turns) and turns[-1].seq > seq


def _observed(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
