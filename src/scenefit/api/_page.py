"""The web page at / and its static files (plain HTML/JS/CSS: no build step, no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from .._errors import NotFoundError

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)

_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@router.get("/")
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    path = STATIC / name
    # Only the files shipped beside this module: no "..", no folders.
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFoundError(f"no static file {name!r}")
    return FileResponse(path, media_type=_TYPES.get(path.suffix, "application/octet-stream"))
