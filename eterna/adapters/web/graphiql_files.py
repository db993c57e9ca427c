"""GraphiQL's files under ``/graphiql/``: vendored builds and our page script, kept offline.

React, ReactDOM and GraphiQL are vendored from their npm packages (``graphiql/VENDOR.md``,
refreshed by ``scripts/vendor_graphiql.sh``), so the page at ``/graphql`` loads nothing from
another origin and works where no CDN can be reached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as HttpRoute

from eterna.adapters.web.order_page import Asset, load_assets, send_asset


def content_security_policy(style_nonce: str | None = None) -> str:
    """Return GraphiQL's policy: this origin only, as the order page's, with two exceptions.

    GraphiQL's stylesheet embeds its fonts and icons as data: URLs. And while a menu is open,
    GraphiQL adds a ``<style>`` element (it hides the scroll bar) carrying webpack's nonce,
    which the page sets from its JSON block: a fresh nonce per page admits that element and
    nothing else. No inline script: the example travels in the JSON block, which is data.
    """
    style = "style-src 'self'" + (f" 'nonce-{style_nonce}'" if style_nonce else "")
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            style,
            "font-src data:",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


PREFIX = "/graphiql"
# What the page loads, in order: React before the packages that use it.
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-page.js",
)
STYLES = ("graphiql.min.css", "graphiql-page.css")


class GraphiqlFiles:
    """Serve GraphiQL's scripts and styles under ``/graphiql/``."""

    def __init__(self, assets: dict[str, Asset] | None = None) -> None:
        self._assets = assets if assets is not None else load_assets("graphiql", required=None)
        missing = [name for name in (*SCRIPTS, *STYLES) if name not in self._assets]
        if missing:
            raise RuntimeError(f"GraphiQL's files are missing from the package: {missing}")

    def routes(self) -> list[HttpRoute]:
        """Return the route of the files."""
        return [HttpRoute(PREFIX + "/{name}", self.asset, methods=["GET"])]

    async def asset(self, request: Request) -> Response:
        """Send one file; 404 for any other name."""
        asset = self._assets.get(request.path_params["name"])
        if asset is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return send_asset(request, asset, content_security_policy())
