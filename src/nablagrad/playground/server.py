"""The playground's web server (Starlette + uvicorn): the page, a JSON API and a WebSocket
per session that streams training snapshots several times a second.

Resources are bounded: at most ``MAX_SESSIONS`` sessions, each trained only while its page
is connected (closing the page stops it), and every parameter is validated (4xx otherwise).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import webbrowser
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..viz.plots import optimizer_paths
from .config import OPTIMIZERS, ConfigError, _choice, _number, parse_config
from .session import Session

MAX_SESSIONS = 16
UNCONNECTED_TTL = 120.0  # seconds a session may wait for its page
TICK = 0.1  # seconds between snapshots while playing (≈ 10 per second)
EPOCHS_PER_TICK = 1

STATIC = Path(str(resources.files("nablagrad.playground") / "static"))


class Registry:
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.created: dict[str, float] = {}
        self.connected: set[str] = set()

    def prune(self) -> None:
        now = time.monotonic()
        for sid in [s for s, t in self.created.items() if s not in self.connected and now - t > UNCONNECTED_TTL]:
            self.drop(sid)

    def create(self, session: Session) -> str:
        self.prune()
        if len(self.sessions) >= MAX_SESSIONS:
            raise OverflowError
        sid = secrets.token_urlsafe(8)
        self.sessions[sid] = session
        self.created[sid] = time.monotonic()
        return sid

    def drop(self, sid: str) -> None:
        self.sessions.pop(sid, None)
        self.created.pop(sid, None)
        self.connected.discard(sid)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request):
    try:
        return await request.json()
    except ValueError:
        raise ConfigError("the request body must be JSON") from None


def create_app() -> Starlette:
    registry = Registry()

    async def index(request: Request):
        return FileResponse(STATIC / "index.html")

    async def validate(request: Request):
        try:
            cfg = parse_config(await _json_body(request))
        except ConfigError as exc:
            return _error(422, str(exc))
        return JSONResponse({"config": cfg.to_dict()})

    async def create_session(request: Request):
        try:
            cfg = parse_config(await _json_body(request))
        except ConfigError as exc:
            return _error(422, str(exc))
        try:
            sid = registry.create(await asyncio.to_thread(Session, cfg))
        except OverflowError:
            return _error(429, f"too many sessions (at most {MAX_SESSIONS}); close another playground tab")
        return JSONResponse({"id": sid, "config": cfg.to_dict()}, status_code=201)

    def _session(request: Request) -> Session | None:
        return registry.sessions.get(request.path_params["sid"])

    async def export_model(request: Request):
        s = _session(request)
        if s is None:
            return _error(404, "no such session")
        return Response(s.model_bytes(), media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="playground.safetensors"'})  # fmt: skip

    async def export_script(request: Request):
        s = _session(request)
        if s is None:
            return _error(404, "no such session")
        return PlainTextResponse(s.script(), headers={"Content-Disposition": 'attachment; filename="playground_run.py"'})

    async def delete_session(request: Request):
        registry.drop(request.path_params["sid"])
        return Response(status_code=204)

    async def paths(request: Request):
        q = request.query_params
        try:
            opt = _choice("optimizer", q.get("optimizer", "sgd"), OPTIMIZERS)
            lr = _number("lr", q.get("lr", "0.1"), 1e-6, 10)
            steps = _number("steps", q.get("steps", "50"), 1, 500, integer=True)
        except ConfigError as exc:
            return _error(422, str(exc))
        result = optimizer_paths([lr], opt, steps=steps)[lr]
        return JSONResponse({"optimizer": opt, "lr": lr, "path": result.round(5).tolist()})

    async def ws(websocket: WebSocket):
        sid = websocket.path_params["sid"]
        session = registry.sessions.get(sid)
        await websocket.accept()
        if session is None:
            await websocket.send_json({"type": "error", "message": "no such session; reload the page"})
            await websocket.close(code=4404)
            return
        registry.connected.add(sid)
        lock = asyncio.Lock()
        wake = asyncio.Event()

        async def receive():
            while True:
                msg = await websocket.receive_json()
                action = msg.get("action") if isinstance(msg, dict) else None
                async with lock:
                    try:
                        if action == "play":
                            session.playing = True
                        elif action == "pause":
                            session.playing = False
                        elif action == "step":
                            session.playing = False
                            await asyncio.to_thread(session.train_epochs, 1)
                            await websocket.send_json(session.snapshot())
                        elif action in ("reset", "regenerate"):
                            session.playing = False
                            await asyncio.to_thread(session.reset, action == "regenerate")
                            await websocket.send_json(session.snapshot(with_points=True))
                        elif action == "config":
                            cfg = parse_config(msg.get("config", {}), session.cfg)
                            playing = session.playing
                            session.cfg = cfg
                            await asyncio.to_thread(session.reset, True)
                            session.playing = playing
                            await websocket.send_json(session.snapshot(with_points=True))
                        else:
                            raise ConfigError(f"unknown action {action!r}; use play, pause, step, reset, regenerate or config")
                    except ConfigError as exc:
                        await websocket.send_json({"type": "error", "message": str(exc)})
                wake.set()

        async def train():
            await websocket.send_json(session.snapshot(with_points=True))
            while True:
                if session.playing:
                    async with lock:
                        if session.playing:
                            await asyncio.to_thread(session.train_epochs, EPOCHS_PER_TICK)
                            await websocket.send_json(session.snapshot())
                    await asyncio.sleep(TICK)
                else:
                    wake.clear()
                    await wake.wait()

        tasks = [asyncio.create_task(receive()), asyncio.create_task(train())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t.exception() and not isinstance(t.exception(), WebSocketDisconnect | RuntimeError):
                    raise t.exception()
        finally:
            for t in tasks:
                t.cancel()
            registry.drop(sid)  # closing the page ends its session and its training

    routes = [
        Route("/", index),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/validate", validate, methods=["POST"]),
        Route("/api/sessions", create_session, methods=["POST"]),
        Route("/api/sessions/{sid}", delete_session, methods=["DELETE"]),
        Route("/api/sessions/{sid}/model.safetensors", export_model),
        Route("/api/sessions/{sid}/script.py", export_script),
        Route("/api/paths", paths),
        WebSocketRoute("/ws/{sid}", ws),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.registry = registry
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> int:
    """Run the playground until interrupted (``nablagrad playground``)."""
    import uvicorn  # noqa: PLC0415

    url = f"http://{host}:{port}/"
    print(f"nablagrad playground on {url} (Ctrl+C to stop)")
    if open_browser:
        webbrowser.open(url)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
    return 0
