"""``/openapi.json`` documents every field of the send bodies: a description and an example for
each, and the multipart bodies list their uploads."""

from __future__ import annotations

from typing import Any

import httpx

TEMPLATE_FIELDS = [
    "phone_number",
    "template_name",
    "template_language",
    "from_phone_number_id",
    "header_image_url",
    "header_video_url",
    "header_document_url",
    "header_document_name",
    "header_field_1",
    *(f"field_{n}" for n in range(1, 11)),
    *(f"button_{n}" for n in range(10)),
    "contact",
]


async def bodies(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    spec = (await client.get("/openapi.json")).json()
    content: dict[str, Any] = spec["paths"][f"/api/v1/{{subdomain}}/messages/{path}"]["post"][
        "requestBody"
    ]["content"]
    return content


async def test_every_template_field_has_a_description_and_an_example(
    client: httpx.AsyncClient,
) -> None:
    content = await bodies(client, "template")
    for kind in ("application/json", "multipart/form-data"):
        properties = content[kind]["schema"]["properties"]
        for name in TEMPLATE_FIELDS:
            assert properties[name].get("description"), (kind, name)
            assert properties[name].get("examples"), (kind, name)
    assert "{{3}}" in content["application/json"]["schema"]["properties"]["field_3"]["description"]
    form = content["multipart/form-data"]["schema"]["properties"]
    for upload, limit in (
        ("header_image_file", "5120 KB"),
        ("header_video_file", "16384 KB"),
        ("header_document_file", "102400"),
    ):
        assert form[upload]["format"] == "binary"
        assert limit in form[upload]["description"]
    assert "header_image_file" not in content["application/json"]["schema"]["properties"]


async def test_send_and_media_fields_are_described(client: httpx.AsyncClient) -> None:
    for path in ("send", "media"):
        for kind, media in (await bodies(client, path)).items():
            for name, schema in media["schema"]["properties"].items():
                assert schema.get("description"), (path, kind, name)
    media_form = (await bodies(client, "media"))["multipart/form-data"]["schema"]
    assert media_form["properties"]["media_file"]["format"] == "binary"
