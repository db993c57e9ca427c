"""The live order page at ``/``: the files in ``static/``, sent with a strict CSP.

The page is plain HTML, CSS and ES modules with no build step, beside the graphql-ws client
library vendored from its npm package (``static/VENDOR.md``): a browser loads nothing from
another origin, so the page works where no CDN can be reached.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as HttpRoute

# Scripts, styles and connections from this origin only, no inline script or style, no
# frames, forms or base URL: markup that slipped into the page could neither run nor leak.
# The page itself puts server data in the DOM only as text.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
INDEX = "index.html"


@dataclass(frozen=True)
class Asset:
    """One file of the page, held in memory with its type and entity tag."""

    body: bytes
    media_type: str
    etag: str


def load_assets(folder: str = "static", required: str | None = INDEX) -> dict[str, Asset]:
    """Read a folder of the package's HTML, scripts and styles (the order page's by default)."""
    assets: dict[str, Asset] = {}
    for entry in (resources.files("eterna.adapters.web") / folder).iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _MEDIA_TYPES:
            body = entry.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            assets[entry.name] = Asset(body, _MEDIA_TYPES[suffix], etag)
    if required is not None and required not in assets:
        raise RuntimeError(f"eterna/adapters/web/{folder}/{required} is missing from the package")
    return assets


def send_asset(request: Request, asset: Asset, policy: str = CONTENT_SECURITY_POLICY) -> Response:
    """Send one file with its policy, revalidated by ETag on every load."""
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        # Revalidate every time (cheap, by ETag) so an upgraded server never runs an
        # old script against a new schema.
        "Cache-Control": "no-cache",
        "ETag": asset.etag,
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


class OrderPage:
    """Serve the order page at ``/`` and its scripts and styles under ``/static/``."""

    def __init__(self, assets: dict[str, Asset] | None = None) -> None:
        self._assets = assets if assets is not None else load_assets()

    def routes(self) -> list[HttpRoute]:
        """Return the page's routes."""
        return [
            HttpRoute("/", self.index, methods=["GET"]),
            HttpRoute("/static/{name}", self.asset, methods=["GET"]),
        ]

    async def index(self, request: Request) -> Response:
        """Send the page."""
        return self._send(request, self._assets[INDEX])

    async def asset(self, request: Request) -> Response:
        """Send one script or stylesheet of the page; 404 for any other name."""
        name = request.path_params["name"]
        asset = self._assets.get(name) if name != INDEX else None
        if asset is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return self._send(request, asset)

    @staticmethod
    def _send(request: Request, asset: Asset) -> Response:
        return send_asset(request, asset)
