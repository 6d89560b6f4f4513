"""The playground's web server (Starlette + uvicorn): the page, a JSON API and a WebSocket per
viewer of a session.

Training runs as fast as the engine allows (or at the page's "speed"), in one thread per session,
decoupled from drawing: each viewer receives the latest snapshot up to 14 times a
second.  Every message gets an answer: a bad one a JSON ``{"type": "error", "message": …}``
(WebSocket) or a 4xx ``{"error": …}`` (HTTP), and the server keeps serving.  Resources are
bounded: ``MAX_SESSIONS`` sessions shown by at most ``MAX_VIEWERS`` pages each, ``MAX_UPLOADS``
uploaded files, request bodies of ``MAX_BODY`` bytes, WebSocket messages of ``MAX_MESSAGE``
characters; a session lives while a page shows it (several pages may share one) and ends at once
on ``DELETE /api/sessions/{id}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import secrets
import socket
import time
import webbrowser
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..viz.plots import optimizer_paths
from .config import FIELD, PARSERS, UPLOAD, ConfigError, Field, _shown, apply_upload, parse_config, schema, shown_name
from .session import Session
from .upload import MAX_BYTES, Upload, UploadError, parse_csv

MAX_SESSIONS = 16
MAX_UPLOADS = 32
MAX_VIEWERS = 8  # pages showing one session: each one costs a snapshot per frame
MAX_BODY = 64 * 1024  # a configuration; uploads may use upload.MAX_BYTES
MAX_MESSAGE = 1024 * 1024  # characters of one WebSocket message (a page's are a few hundred)
UNCONNECTED_TTL = 120.0  # seconds a session may wait for its page
FRAME = 0.07  # seconds between snapshots sent to a viewer (at most 14 frames per second)
CHUNK = 0.04  # seconds of training between looks at the controls (and chances to draw)
ENDED = "session ended - reload the page to start a new one"  # what a page showing a deleted session is told
NO_SESSION = "no such session (it ended when its last page closed) or it was deleted; reload the page"
NO_SESSION_PAGE = "no such session; reload the page"  # what a page opening a socket on no session is told
TOO_MANY_PAGES = f"too many pages show this session (at most {MAX_VIEWERS}); close one, or reload for a session of your own"
# Why the server closes a page's WebSocket, by close code (4000 + the HTTP status it echoes).  The page
# learns them from /api/schema's "protocol" (:func:`protocol`), so they are written here only.
CLOSE_CODES = {"no_session": 4404, "ended": 4410, "too_many_pages": 4429}

STATIC = Path(str(resources.files("nablagrad.playground") / "static"))
log = logging.getLogger("nablagrad.playground")


class Registry:
    """Sessions (with how many pages show each) and uploaded data sets, both bounded.

    A session ends when its last page closes, when it waits ``UNCONNECTED_TTL`` seconds for a
    first page, or on ``DELETE /api/sessions/{id}``: its training stops after the epoch under way,
    and every page still showing it is told :data:`ENDED` and disconnected."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.created: dict[str, float] = {}
        self.viewers: dict[str, int] = {}
        self.runners: dict[str, asyncio.Task] = {}
        self.wakes: dict[str, asyncio.Event] = {}  # set: the runner looks at ``playing`` again
        self.ended: dict[str, asyncio.Event] = {}  # set: the pages showing the session must go
        self.uploads: OrderedDict[str, Upload] = OrderedDict()

    def prune(self) -> None:
        now = time.monotonic()
        for sid in [s for s, t in self.created.items() if not self.viewers.get(s) and now - t > UNCONNECTED_TTL]:
            self.drop(sid)

    def create(self, session: Session) -> str:
        self.prune()
        if len(self.sessions) >= MAX_SESSIONS:
            raise OverflowError
        sid = secrets.token_urlsafe(8)
        self.sessions[sid] = session
        self.created[sid] = time.monotonic()
        return sid

    def join(self, sid: str) -> tuple[asyncio.Event, asyncio.Event]:
        """One more page shows ``sid`` (which must exist): its wake and ended events; the first
        page starts the session's runner."""
        self.viewers[sid] = self.viewers.get(sid, 0) + 1
        wake = self.wakes.setdefault(sid, asyncio.Event())
        if sid not in self.runners:
            self.runners[sid] = asyncio.create_task(_runner(self.sessions[sid], wake))
        return wake, self.ended.setdefault(sid, asyncio.Event())

    def leave(self, sid: str) -> None:
        """A page showing ``sid`` closed; the last one ends the session."""
        if sid not in self.sessions:
            return
        self.viewers[sid] = self.viewers.get(sid, 1) - 1
        if self.viewers[sid] <= 0:
            self.drop(sid)

    def drop(self, sid: str) -> bool:
        """End session ``sid`` (``False`` if there is none): stop its training and tell its pages."""
        session = self.sessions.pop(sid, None)
        if session is not None:
            session.playing = False  # a training chunk under way stops after its current epoch
        self.created.pop(sid, None)
        self.viewers.pop(sid, None)
        self.wakes.pop(sid, None)
        task = self.runners.pop(sid, None)
        if task is not None:
            task.cancel()
        ended = self.ended.pop(sid, None)
        if ended is not None:
            ended.set()
        return session is not None

    def add_upload(self, upload: Upload) -> str:
        uid = secrets.token_urlsafe(8)
        self.uploads[uid] = upload
        while len(self.uploads) > MAX_UPLOADS:
            self.uploads.popitem(last=False)  # the oldest upload goes first
        return uid

    def upload_for(self, cfg, raw: dict, session: Session | None = None) -> Upload | None:
        """The uploaded data ``cfg`` names (``None`` for a generated set), with ``cfg`` tied to it
        (:func:`~.config.apply_upload`).  A session keeps the upload it trains on even once newer
        uploads have pushed it out of the registry, so that its other controls still work."""
        if cfg.dataset != UPLOAD:
            return None
        upload = self.uploads.get(cfg.upload)
        if upload is None and session is not None and session.cfg.dataset == UPLOAD and session.cfg.upload == cfg.upload:
            upload = session.upload
        if upload is None:
            raise ConfigError(f"no uploaded data {cfg.upload!r} on the server (it restarted or forgot it); upload the file again")
        if cfg.upload in self.uploads:
            self.uploads.move_to_end(cfg.upload)
        apply_upload(cfg, raw, upload)
        return upload


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (no such route, a method a route does not take) as the API's JSON
    ``{"error": …}`` naming what was asked and what to do, with their headers (``Allow``)."""
    asked = f"{request.method} {_shown(request.url.path, 80)}"
    if exc.status_code == 405:
        message = f"{asked} is not allowed; this address takes {(exc.headers or {}).get('Allow', 'other methods')}"
    elif exc.status_code == 404:
        message = f"{asked}: no such page or API address; the API is under /api (GET /api/schema lists the parameters)"
    else:
        message = f"{asked}: {exc.detail}"
    if exc.status_code in (204, 304):  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


class _RepeatedKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are all different: ``{"lr": 1, "lr": 2}`` is refused, not read as its last value."""
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKeyError(f"the message gives {_shown(key)} more than once ({_shown(seen[key])} and "
                                    f"{_shown(value)}); give each parameter once")  # fmt: skip
        seen[key] = value
    return seen


def _loads(text: str | bytes):
    """JSON from text; malformed or absurdly nested input, or an object repeating a key, is a :class:`ConfigError`."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _RepeatedKeyError as exc:
        raise ConfigError(str(exc)) from None
    except (ValueError, RecursionError):
        raise ConfigError("the message must be JSON (an object of parameters, at most a few levels deep)") from None


def _finite(value):
    """``value`` with every NaN/±inf float (nested in lists and dicts) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _dumps(payload: dict) -> str:
    """Strict JSON for the page: JSON has no NaN or Infinity (``JSON.parse`` refuses Python's
    ``NaN``), so a non-finite number is sent as ``null``."""
    try:
        return json.dumps(payload, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except ValueError:  # rare (snapshots already send finite numbers): clean the payload, then send it
        return json.dumps(_finite(payload), allow_nan=False, separators=(",", ":"), ensure_ascii=False)


class QueryError(ConfigError):
    """A query string the server cannot read unambiguously (HTTP 400): a parameter given twice."""


def _query(request: Request, known: tuple[str, ...]) -> dict[str, str]:
    """The query parameters as one value each: a repeated one (``?lr=1&lr=2``) is a
    :class:`QueryError` rather than silently the last, an unknown one a :class:`ConfigError`."""
    q = request.query_params
    repeated = sorted({k for k in q if len(q.getlist(k)) > 1})
    if repeated:
        given = "; ".join(f"{_shown(k)} ({', '.join(_shown(v) for v in q.getlist(k)[:4])})" for k in repeated[:8])
        raise QueryError(f"parameter(s) given more than once: {given}; give each parameter one value")
    unknown = sorted(set(q) - set(known))
    if unknown:
        raise ConfigError(f"unknown parameter(s): {', '.join(map(shown_name, unknown[:8]))}; known: {', '.join(known)}")
    return dict(q)


def _config_error(exc: ConfigError) -> JSONResponse:
    return _error(400 if isinstance(exc, QueryError) else 422, str(exc))


async def _body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ConfigError(f"the request body is larger than {limit} bytes; send only the parameters, "
                              "as a JSON object such as {\"lr\": 0.1} (a whole configuration is under 1 kB)")  # fmt: skip
        chunks.append(chunk)
    return b"".join(chunks)


async def _runner(session: Session, wake: asyncio.Event) -> None:
    """Train while playing: chunks of ``CHUNK`` seconds at full speed, or paced to ``speed`` —
    in a thread of this session's own, so that sessions never wait for each other's chunks nor
    for the pool that snapshots and commands use."""
    loop = asyncio.get_running_loop()
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playground-training")
    try:
        while True:
            if not session.playing:
                wake.clear()
                await wake.wait()
                continue
            speed = session.cfg.speed
            t0 = time.perf_counter()
            if speed:
                k = max(1, int(speed * CHUNK))
                done = await loop.run_in_executor(thread, session.train_for, float("inf"), k, True)  # ≤ k: a snapshot may cut in
                await asyncio.sleep(max(0.0, done / speed - (time.perf_counter() - t0)))
            else:
                await loop.run_in_executor(thread, session.train_for, CHUNK, None, True)
                await asyncio.sleep(0)  # let viewers and commands in between chunks
    finally:
        thread.shutdown(wait=False, cancel_futures=True)


async def _goodbye(websocket: WebSocket, send_lock: asyncio.Lock) -> None:
    """Tell a page its session was deleted (``{"type": "ended", "message": ENDED}``) and close
    with ``CLOSE_CODES["ended"]``; a page already gone is no error."""
    try:
        async with send_lock:
            await websocket.send_text(_dumps({"type": "ended", "message": ENDED}))
            await websocket.close(code=CLOSE_CODES["ended"], reason=ENDED)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


# What a page's WebSocket message holds besides "action", per action, and what to send when it lacks it.
ACTIONS: dict[str, tuple[str, ...]] = {"play": (), "pause": (), "step": (), "reset": (),
                                       "config": ("config",), "inspect": ("layer", "source", "target")}  # fmt: skip
NEEDS = {"config": 'config needs "config", an object of parameters: {"action": "config", "config": {"lr": 0.1}}',
         "inspect": "inspect needs whole numbers layer, source and target"}  # fmt: skip


def _action(msg) -> str:
    """The action a page's message asks for; a message that is no object, names no known action,
    lacks what its action needs or holds keys it does not take (``{"action": "step", "n": 9}``
    would silently step once) is a :class:`ConfigError` naming the key and the fix."""
    if not isinstance(msg, dict):
        raise ConfigError('a message must be a JSON object like {"action": "play"}')
    action = msg.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise ConfigError(f"unknown action {_shown(action)}; use {', '.join(ACTIONS)}")
    takes = ("action", *ACTIONS[action])
    unknown = sorted(set(msg) - set(takes))
    if unknown:
        raise ConfigError(f"{action} takes only {', '.join(takes)}; remove {', '.join(map(shown_name, unknown[:8]))}")
    missing = [k for k in takes if k not in msg]
    if missing:
        raise ConfigError(f"{NEEDS[action]}; missing: {', '.join(missing)}")
    return action


def protocol() -> dict:
    """The WebSocket protocol's constants the page needs (sent in ``/api/schema``): the close codes
    after which it must stop (the session is gone or refused it), and what to say if a close comes
    without its reason."""
    return {"close_codes": CLOSE_CODES, "ended": ENDED}


async def _refuse(websocket: WebSocket, why: str, code: int) -> None:
    """Refuse an accepted page: a JSON error naming why, then a close with ``code`` and the same reason."""
    await websocket.send_json({"type": "error", "message": why})
    await websocket.close(code=code, reason=why)


def create_app() -> Starlette:
    registry = Registry()

    async def index(request: Request):
        return FileResponse(STATIC / "index.html")

    async def get_schema(request: Request):
        return JSONResponse({**schema(), "protocol": protocol()})

    async def _config(request: Request):
        """The validated configuration of a request's body, tied to its uploaded data if any."""
        raw = _loads(await _body(request, MAX_BODY))
        cfg = parse_config(raw)
        return cfg, registry.upload_for(cfg, raw)

    async def validate(request: Request):
        try:
            cfg, _ = await _config(request)
        except ConfigError as exc:
            return _error(422, str(exc))
        return JSONResponse({"config": cfg.to_dict()})

    async def create_session(request: Request):
        try:
            cfg, upload = await _config(request)
            session = await asyncio.to_thread(Session, cfg, upload)
        except ConfigError as exc:
            return _error(422, str(exc))
        try:
            sid = registry.create(session)
        except OverflowError:
            return _error(429, f"too many sessions (at most {MAX_SESSIONS}); close another playground tab")
        return JSONResponse({"id": sid, "config": session.cfg.to_dict()}, status_code=201)

    async def upload(request: Request):
        try:
            problem = _query(request, ("problem",)).get("problem", "auto")
        except ConfigError as exc:
            return _config_error(exc)
        try:
            raw = await _body(request, MAX_BYTES)
        except ConfigError:
            return _error(413, f"the file is larger than {MAX_BYTES} bytes; at most {MAX_BYTES} are accepted")
        try:
            up = await asyncio.to_thread(parse_csv, raw, problem)
        except UploadError as exc:
            return _error(422, str(exc))
        return JSONResponse({"id": registry.add_upload(up), **up.summary()}, status_code=201)

    def _session(request: Request) -> Session | None:
        return registry.sessions.get(request.path_params["sid"])

    async def export_model(request: Request):
        s = _session(request)
        if s is None:
            return _error(404, NO_SESSION)
        return Response(await asyncio.to_thread(s.model_bytes), media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="playground.safetensors"'})  # fmt: skip

    async def export_script(request: Request):
        s = _session(request)
        if s is None:
            return _error(404, NO_SESSION)
        return PlainTextResponse(s.script(), headers={"Content-Disposition": 'attachment; filename="playground_run.py"'})

    async def delete_session(request: Request):
        """End a session now: its training stops and the pages showing it are told :data:`ENDED`."""
        if not registry.drop(request.path_params["sid"]):
            return _error(404, NO_SESSION)
        return Response(status_code=204)

    path_fields = {
        "optimizer": FIELD["optimizer"],
        "lr": Field("lr", "float", 0.1, "", "", lo=1e-6, hi=10),
        "steps": Field("steps", "int", 50, "", "", lo=1, hi=500),
    }

    async def paths(request: Request):
        try:
            q = _query(request, tuple(path_fields))
            v = {k: PARSERS[f.type](f, q.get(k, str(f.default))) for k, f in path_fields.items()}
        except ConfigError as exc:
            return _config_error(exc)
        result = optimizer_paths([v["lr"]], v["optimizer"], steps=v["steps"])[v["lr"]]
        return JSONResponse({"optimizer": v["optimizer"], "lr": v["lr"], "path": result.round(5).tolist()})

    async def handle(session: Session, sid: str, msg, websocket: WebSocket, wake: asyncio.Event) -> None:
        if registry.sessions.get(sid) is not session:
            return  # deleted a moment ago: the page is being told so, nothing more happens to it
        action = _action(msg)
        if action == "play":
            session.playing, session.status = True, ""
        elif action == "pause":
            session.playing = False
        elif action == "step":
            session.playing = False
            await asyncio.to_thread(session.train_epochs, 1)
        elif action == "reset":
            await asyncio.to_thread(session.reset)
        elif action == "config":
            raw = msg["config"]
            cfg = parse_config(raw, session.cfg)
            await asyncio.to_thread(session.configure, cfg, registry.upload_for(cfg, raw, session))
        elif action == "inspect":
            where = [msg[k] for k in ACTIONS["inspect"]]  # all there: checked by _action
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in where):
                raise ConfigError(NEEDS["inspect"])
            await websocket.send_text(_dumps(await asyncio.to_thread(session.inspect, *where)))
        session.version += 1
        wake.set()

    async def ws(websocket: WebSocket):
        sid = websocket.path_params["sid"]
        await websocket.accept()
        session = registry.sessions.get(sid)  # looked up after the accept: a DELETE may come during it
        if session is None:
            return await _refuse(websocket, NO_SESSION_PAGE, CLOSE_CODES["no_session"])
        if registry.viewers.get(sid, 0) >= MAX_VIEWERS:
            return await _refuse(websocket, TOO_MANY_PAGES, CLOSE_CODES["too_many_pages"])
        wake, ended = registry.join(sid)
        send_lock = asyncio.Lock()

        async def send(payload: dict) -> None:
            async with send_lock:
                await websocket.send_text(_dumps(payload))

        async def receive():
            while True:
                frame = await websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                try:
                    if frame.get("text") is None:
                        raise ConfigError("binary frames are not understood; send JSON text such as {\"action\": \"play\"}")
                    if len(frame["text"]) > MAX_MESSAGE:  # not parsed: bounded as an HTTP body is
                        raise ConfigError(f"a message is larger than {MAX_MESSAGE} characters; send one action at a time")
                    await handle(session, sid, _loads(frame["text"]), websocket, wake)
                except ConfigError as exc:  # nothing changed: the page gets the configuration still in force
                    await send({"type": "error", "message": str(exc), "config": session.cfg.to_dict()})
                except Exception as exc:  # a bug must not cut the page off: say so, keep serving
                    if websocket.client_state.name != "CONNECTED":
                        return
                    log.exception("playground message failed")
                    await send({"type": "error", "message": f"the server could not do that ({type(exc).__name__}: {exc})"})

        async def show():
            shown, points_shown = -1, -1
            while True:
                t0 = time.perf_counter()
                if session.version != shown:
                    shown = session.version
                    with_points = session.data_version != points_shown
                    session.snapshot_due.set()  # the chunk under way stops after its epoch, not its 40 ms
                    snap = await asyncio.to_thread(session.snapshot, with_points)
                    if with_points:
                        points_shown = session.data_version
                    await send(snap)
                await asyncio.sleep(max(0.0, FRAME - (time.perf_counter() - t0)))

        tasks = [asyncio.create_task(receive()), asyncio.create_task(show()), asyncio.create_task(ended.wait())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in tasks:
                t.cancel()
            await asyncio.wait(tasks)  # all stopped, so no snapshot follows "ended" (not gather: anyio's
            # cancel scope would take the CancelledError gather makes for a foreign one)
            for t in done:
                exc = t.exception()
                if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                    raise exc
            if ended.is_set():  # deleted while this page shows it: say so once, then hang up
                await _goodbye(websocket, send_lock)
        finally:
            for t in tasks:
                t.cancel()
            registry.leave(sid)  # the last page showing the session closed: it ends

    routes = [
        Route("/", index),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/schema", get_schema),
        Route("/api/validate", validate, methods=["POST"]),
        Route("/api/sessions", create_session, methods=["POST"]),
        Route("/api/uploads", upload, methods=["POST"]),
        Route("/api/sessions/{sid}", delete_session, methods=["DELETE"]),
        Route("/api/sessions/{sid}/model.safetensors", export_model),
        Route("/api/sessions/{sid}/script.py", export_script),
        Route("/api/paths", paths),
        WebSocketRoute("/ws/{sid}", ws),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.registry = registry
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), bound before the server starts so
    that a bad host raises :class:`socket.gaierror` and a taken port :class:`OSError`, not a log line."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise OSError(f"cannot listen on {host}:{port}: {why}; choose another --port or --host") from None


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> int:
    """Run the playground until interrupted (``nablagrad playground``)."""
    import uvicorn  # noqa: PLC0415

    sock = bind(host, port)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{sock.getsockname()[1]}/"
    print(f"nablagrad playground on {url} (Ctrl+C to stop)")
    if open_browser:
        webbrowser.open(url)
    uvicorn.Server(uvicorn.Config(create_app(), log_level="warning")).run(sockets=[sock])
    return 0
