"""The access token every `icp serve` request needs, and the security headers on every reply."""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-icp-token"
FORM_HEADER = "x-icp-form"  # the pages' scripts send the form token in it
FORM_FIELD = "form_token"  # and forms carry it as a hidden field
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
BY_HEADER = "icp.token_header"  # set in the ASGI scope when the token came in a header
# What an API call with a missing or outdated token is told: usually a tab from a previous run.
STALE_TOKEN = (
    "This page is from an earlier run of icp serve, or has no access token, so the server "
    "refused it; nothing was changed. Open the link icp serve printed when it started (it "
    "ends in ?token=...): everything saved is still there. Copy any text you typed first."
)
# No inline script or style: even text that escaped escaping could not run.
SECURITY_HEADERS = {  # identifiers: HTTP header names and values
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
_FORBIDDEN = """<!DOCTYPE html><html lang="en"><meta charset="utf-8">
<title>icp: access token needed</title>
<style>body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto;
padding: 0 1rem; line-height: 1.5; color: #1f2430 }</style>
<body>
<h1>Access token needed</h1>
<p>This page belongs to a running <code>icp serve</code>. Open the link it printed
(it ends in <code>?token=...</code>). If you restarted it, the old link no longer works:
use the new one; your interviews are all still there.</p></body></html>"""
_FORBIDDEN_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def new_token() -> str:
    """A fresh random access token for one server run."""
    return secrets.token_urlsafe(24)


def form_token(token: str) -> str:
    """The token pages put in their forms and scripts; it proves a request came from a page
    this server rendered (another site can neither read it nor guess it)."""
    return hmac.new(token.encode(), b"icp form", hashlib.sha256).hexdigest()[:32]


def cookie_name(token: str) -> str:
    """A cookie name unique to the token, so two servers on one host do not collide."""
    return "icp_" + hashlib.sha256(token.encode()).hexdigest()[:10]


class TokenGuard:
    """ASGI middleware: 403 without the token; a valid ?token= becomes a strict cookie."""

    def __init__(self, app: ASGIApp, token: str):
        self.app, self.token, self.cookie = app, token, cookie_name(token)
        self.form = form_token(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given_query = next((v for k, v in query if k == "token"), None)
        bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is just no cookie
            cookies = SimpleCookie()
        candidates = [
            headers.get(HEADER),
            bearer or None,
            cookies[self.cookie].value if self.cookie in cookies else None,
            given_query,
        ]
        if not any(c and self._valid(c) for c in candidates):
            await self._forbid(scope, receive, send)
            return
        by_header = any(c and self._valid(c) for c in candidates[:2])
        if scope["method"] not in SAFE_METHODS:
            refused = None if by_header else self._cross_site(headers, scope["path"])
            if refused:
                await _refuse(scope, receive, send, refused)
                return
            scope[BY_HEADER] = by_header
        if given_query is not None and scope["method"] in ("GET", "HEAD"):
            # Trade the token in the address for a cookie, and drop it from the address bar.
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            target = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
            await _secured(response)(scope, receive, send)
            return
        await self.app(scope, receive, _secure_send(send, scope["path"]))

    def _valid(self, candidate: str) -> bool:
        return secrets.compare_digest(candidate.encode(), self.token.encode())

    def _cross_site(self, headers: Headers, path: str) -> str | None:
        """Why a state-changing request with only the cookie may have come from another site
        (None when it is the page's own). A cookie alone proves nothing: SameSite covers the
        site, not the port, so a page on another port of this host could send it."""
        given = headers.get(FORM_HEADER)
        if given and secrets.compare_digest(given.encode(), self.form.encode()):
            return None  # our script: another site can neither read nor guess the form token
        origin, site = headers.get("origin"), headers.get("sec-fetch-site")
        host = headers.get("host", "")
        # Sec-Fetch-Site is set by the browser alone (no page can forge it) and tells the port
        # apart; with a no-referrer policy Chromium sends "Origin: null" even from our own form.
        if site is not None:
            if site != "same-origin":
                return f"it came from another site or port ({origin or site})"
        elif origin is None:
            return "it does not say where it came from (no Origin header)"
        elif urlsplit(origin).netloc != host:
            return f"it came from another site or port ({origin})"
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        wanted = "application/json" if path.startswith("/api/") else FORM_TYPE
        if kind != wanted:
            return f"its content type is {kind or 'missing'}, not {wanted}"
        return None

    async def _forbid(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/api/"):
            response = JSONResponse({"error": STALE_TOKEN, "reason": "token"}, status_code=403)
            await _secured(response)(scope, receive, send)
            return
        response = _secured(HTMLResponse(_FORBIDDEN, status_code=403))
        # A fixed page with no user text: its one inline style block may run.
        response.headers["content-security-policy"] = _FORBIDDEN_CSP
        await response(scope, receive, send)


FORM_TYPE = "application/x-www-form-urlencoded"


async def _refuse(scope: Scope, receive: Receive, send: Send, why: str) -> None:
    """403 for a request that may be forged; nothing was read or changed."""
    message = (
        f"Refused: {why}. Only icp serve's own pages, or a script sending the access token in "
        "the X-ICP-Token header, may change anything. Nothing was changed."
    )
    if scope["path"].startswith("/api/"):
        response = JSONResponse({"error": message, "reason": "origin"}, status_code=403)
    else:
        response = HTMLResponse(_REFUSED.format(message=html.escape(message)), status_code=403)
    await _secured(response)(scope, receive, send)


_REFUSED = """<!DOCTYPE html><html lang="en"><meta charset="utf-8">
<title>icp: request refused</title>
<body><h1>Request refused</h1><p>{message}</p></body></html>"""


def _secured(response):
    response.headers.update(SECURITY_HEADERS)
    response.headers["cache-control"] = "no-store"
    return response


def _secure_send(send: Send, path: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for key, value in SECURITY_HEADERS.items():
                headers.setdefault(key, value)
            if not path.startswith("/static/"):
                headers.setdefault("cache-control", "no-store")
        await send(message)

    return wrapped
