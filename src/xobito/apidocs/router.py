"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) over ``/openapi.json``.

FastAPI's own pages load their scripts from a CDN; these load the npm-installed copies under
``/static/vendor`` (``package.json`` ``xobitoAssets``), with hashed URLs.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse

from xobito.web.assets import static_url

router = APIRouter(include_in_schema=False)
OPENAPI_URL = "/openapi.json"
FAVICON = "vendor/swagger-ui/favicon-32x32.png"
# The pages may load only this server's files. ReDoc's sidebar credit shows an image from
# its CDN (hidden when it fails to load); the policy keeps the browser from asking for it.
# Both pages start their bundle with an inline script; ReDoc's search runs in a blob: worker.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _contained(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = POLICY
    return page


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return _contained(
        get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="Xobito API",
            swagger_js_url=static_url("vendor/swagger-ui/swagger-ui-bundle.js"),
            swagger_css_url=static_url("vendor/swagger-ui/swagger-ui.css"),
            swagger_favicon_url=static_url(FAVICON),
            oauth2_redirect_url=None,
            # No badge from validator.swagger.io: nothing on the page leaves this server.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return _contained(
        get_redoc_html(
            openapi_url=OPENAPI_URL,
            title="Xobito API",
            redoc_js_url=static_url("vendor/redoc/redoc.standalone.js"),
            redoc_favicon_url=static_url(FAVICON),
            with_google_fonts=False,
        )
    )
