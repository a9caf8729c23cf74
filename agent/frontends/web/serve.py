"""`icp serve`: bind a local port, print the link with its access token, run the web app."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
from typing import Any, TextIO

from agent.errors import ICPError

DEFAULT_PORT = 8765


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket; with no port, 8765 or else any free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in (DEFAULT_PORT, 0) if port is None else (port,):
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets; without it every
        # reused connection waits ~40 ms on Nagle and delayed ACKs.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if port is None and candidate == DEFAULT_PORT:
                continue
            raise ICPError(
                f"cannot listen on {host}:{candidate} ({exc.strerror}); "
                "try another --port, or --port 0 for any free one"
            ) from None
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise AssertionError("unreachable: port 0 always binds")


def link(host: str, port: int, token: str) -> str:
    """The URL a browser opens; a wildcard address is reached through loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/?token={token}"


def machine_addresses() -> list[str]:
    """This machine's IPv4 addresses other machines can reach it at (not loopback), found
    without sending anything: the interfaces' addresses on Linux, else the host name's."""
    found: list[str] = []
    try:
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            for _, name in socket.if_nameindex():
                packed = struct.pack("256s", name.encode()[:15])
                try:
                    reply = fcntl.ioctl(probe.fileno(), 0x8915, packed)  # SIOCGIFADDR
                except OSError:
                    continue  # an interface without an IPv4 address
                found.append(socket.inet_ntoa(reply[20:24]))
    except (ImportError, OSError, AttributeError):  # not Linux: ask the resolver's files
        try:
            found = socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:
            found = []
    usable = [a for a in found if not a.startswith(("127.", "169.254.", "0."))]
    return list(dict.fromkeys(usable))


def links(host: str, port: int, token: str) -> list[str]:
    """Every link to print: this computer's first, then, when listening on every address,
    one per address of the machine, for the colleague on the same network."""
    out = [link(host, port, token)]
    if host in ("0.0.0.0", "", "::"):
        out += [link(address, port, token) for address in machine_addresses()]
    return out


def server(app: Any) -> Any:
    """A quiet uvicorn server for the app; `.run(sockets=[...])` serves until stopped."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # the access log would write the token from the first URL
        timeout_graceful_shutdown=3,
        lifespan="on",  # at shutdown every open interview settles and saves
        http=_protocol(),  # h11 with a deadline for the request head (HEADER_SECONDS)
    )
    return uvicorn.Server(config)


HEADER_SECONDS = 10.0  # a request line and headers must arrive whole within this


def _protocol() -> type:
    """uvicorn's h11 protocol, closing a connection whose request head is still incomplete
    after HEADER_SECONDS (uvicorn has no such setting: a client trickling headers would hold
    its connection open for as long as it liked)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadline(H11Protocol):
        header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self.header_timer is None and self.conn.their_state is h11.IDLE:
                self._arm()  # the next request on a kept-alive connection starts arriving
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self.header_timer = self.loop.call_later(HEADER_SECONDS, self._too_slow)

        def _disarm(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _too_slow(self) -> None:
            self.header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadline


def run_server(
    host: str = "127.0.0.1",
    port: int | None = None,
    engine: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    open_browser: bool = True,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> None:
    """Serve until Ctrl-C: the link goes to `out`, notes and warnings to `err`."""
    from agent.config import default_engine
    from agent.engines import get_engine
    from agent.frontends.web.app import create_app
    from agent.frontends.web.auth import new_token

    engine = engine or default_engine()
    get_engine(engine, model, base_url)  # a bad engine or model fails now, not mid-interview

    def engine_for(name: str):
        return get_engine(name, model, base_url)

    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = new_token()
    urls = links(host, port, token)
    url = urls[0]
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {host}, not only this computer: anyone who can reach "
            f"port {port} and has the link can read and answer your interviews. The token "
            "is still required, but traffic is plain HTTP.",
            file=err,
        )
    print("\n".join(urls), file=out, flush=True)
    if len(urls) > 1:
        others = "the second one" if len(urls) == 2 else "one of the others"
        print(
            f"icp serve: the first link is for this computer; from another machine on your "
            f"network open {others} (the same link with this machine's address).",
            file=err,
        )
    elif host in ("0.0.0.0", "", "::"):
        print(
            "icp serve: found no network address for this machine: from another machine, "
            "open the link with 127.0.0.1 replaced by this machine's address.",
            file=err,
        )
    print(
        "icp serve: open the link above (Ctrl-C stops; every answer is saved as it is sent).",
        file=err,
        flush=True,
    )
    if open_browser:
        # The socket already listens, so the browser's first request simply waits for us.
        threading.Thread(target=_open_browser, args=(url, err), daemon=True).start()
    try:
        server(create_app(token, engine, engine_for)).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its clean shutdown
        pass
    finally:
        sock.close()
    print("icp serve: stopped. Interviews are saved; `icp serve` again to continue.", file=err)


def _open_browser(url: str, err: TextIO) -> None:
    """Open the link in a desktop browser; never a text browser that would take the terminal."""
    import webbrowser

    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless or not webbrowser.open(url):
        print("icp serve: no browser to open here; open the link above yourself.", file=err)
