"""Template sends (docs/api/messages.md): availability, variable counts, header media, dynamic
buttons.

Everything is checked before Meta is called, so Meta's parameter-count error 132000 is never
reached.
"""

from __future__ import annotations

from typing import Any

from xobito.kit.validation import Errors
from xobito.message.schemas import TemplateIn
from xobito.models import Template
from xobito.template.schemas import dynamic_buttons
from xobito.whatsapp import payloads

NOT_AVAILABLE = "The selected template is not available or not approved."
MEDIA_FORMATS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}


def check_variables(template: Template, data: TemplateIn, uploaded: set[str]) -> Errors:
    """Errors naming each missing or surplus variable, header medium and button value."""
    errors: Errors = {}
    fields = data.body_fields()
    for n in range(1, 11):
        given = fields[n - 1] is not None
        if n <= template.body_params_count and not given:
            errors[f"field_{n}"] = [f"The field {n} field is required by this template."]
        elif n > template.body_params_count and given:
            errors[f"field_{n}"] = [
                f"The template takes {template.body_params_count} body variables."
            ]
    if template.header_params_count and data.header_field_1 is None:
        errors["header_field_1"] = ["The header field 1 field is required by this template."]
    elif not template.header_params_count and data.header_field_1 is not None:
        errors["header_field_1"] = ["The template has no header variable."]
    medium = MEDIA_FORMATS.get(template.header_data_format or "")
    if medium:
        url = getattr(data, f"header_{medium}_url")
        if url is None and medium not in uploaded:
            errors[f"header_{medium}_url"] = [
                f"The header {medium} url or header {medium} file is required by this template."
            ]
    dynamic = dict(dynamic_buttons(template))
    values = data.button_values()
    for i, value in enumerate(values):
        if dynamic.get(i) == "url" and value is None:
            errors[f"button_{i}"] = [f"The button {i} field is required by this template."]
        elif value is not None and i not in dynamic:
            errors[f"button_{i}"] = [f"The template has no dynamic button {i}."]
    return errors


def build_payload(
    template: Template, data: TemplateIn, to: str, uploaded: dict[str, str]
) -> dict[str, Any]:
    header: str | dict[str, str] | None = None
    medium = MEDIA_FORMATS.get(template.header_data_format or "")
    if medium:
        header = {"type": medium}
        if medium in uploaded:
            header["id"] = uploaded[medium]
        else:
            header["link"] = str(getattr(data, f"header_{medium}_url"))
        if medium == "document" and data.header_document_name:
            header["filename"] = data.header_document_name
    elif template.header_params_count:
        header = data.header_field_1
    body = [str(v) for v in data.body_fields()[: template.body_params_count]]
    dynamic = dynamic_buttons(template)
    values = data.button_values()
    buttons: list[tuple[int | str, Any, str]] = [
        (i, kind, str(values[i])) for i, kind in dynamic if values[i] is not None
    ]
    return payloads.template(
        to,
        template.template_name,
        template.language,
        header_param=header,
        body_params=body,
        buttons=buttons,
    )


def rendered_text(template: Template, data: TemplateIn) -> str | None:
    """The body as the recipient sees it, for the send response and the stored message."""
    text = template.body_data
    if text is None:
        return None
    for n, value in enumerate(data.body_fields(), start=1):
        if value is not None:
            text = text.replace("{{" + str(n) + "}}", value)
    return text
