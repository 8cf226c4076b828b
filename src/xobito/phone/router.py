"""``POST /phone/validate``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.kit.body import json_body
from xobito.kit.openapi import PHONE_CHECK, api_responses, route_doc
from xobito.kit.responses import success
from xobito.kit.validation import require
from xobito.message.schemas import PhoneValidateIn
from xobito.phone.service import validate

VALIDITY = ("Phone number format is valid", "Phone number format is invalid")
router = APIRouter(prefix="/phone", tags=["phone"], route_class=DatabaseRoute)


@router.post(
    "/validate",
    name="phone.validate",
    openapi_extra=route_doc(failure="validate phone number", body=PhoneValidateIn),
    responses=api_responses(data=PHONE_CHECK, message=VALIDITY, body=True),
)
async def validate_phone(request: Request, ctx: ApiContext = Ability("messages.send")) -> Response:
    data = require(PhoneValidateIn, await json_body(request))
    valid, result = validate(data.phone_number)
    message = "Phone number format is valid" if valid else "Phone number format is invalid"
    return success(result, message)
