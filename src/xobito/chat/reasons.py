"""Meta's error codes in words: what a failed message's code means for the person who sent
it, and what to do (Cloud API error codes, developers.facebook.com "Error codes")."""

from __future__ import annotations

REASONS: dict[int, str] = {
    0: "Meta could not authenticate the app. Check the connection's access token.",
    3: "The app lacks the capability or permission for this call.",
    10: "Permission denied: the access token lacks whatsapp_business_messaging.",
    100: "A parameter of the request is invalid or unsupported.",
    190: "The access token has expired or was revoked. Reconnect WhatsApp in Settings.",
    368: "The business account is temporarily blocked for policy violations.",
    130429: "Meta's throughput limit for this number was reached. Try again shortly.",
    130472: "Meta held this message back: the recipient is part of a WhatsApp experiment.",
    130497: "Messages to users in this country are not allowed for this business.",
    131000: "Meta had an internal problem sending this message. Try again.",
    131005: "Access denied: the app's permissions were revoked or not granted.",
    131008: "A required parameter is missing from the message.",
    131009: "A parameter value is invalid (for example an unsupported phone number format).",
    131016: "WhatsApp is temporarily unavailable. Try again later.",
    131021: "The recipient is this business's own number.",
    131026: (
        "WhatsApp could not deliver the message: the number may not be on WhatsApp, the "
        "recipient may not have accepted the latest terms, or runs an old WhatsApp version."
    ),
    131031: "The business account is locked (a policy or verification problem).",
    131042: "A payment problem with the business account (payment method or credit line).",
    131045: "The phone number is not registered with a valid certificate.",
    131047: (
        "More than 24 hours have passed since the customer last wrote: only an approved "
        "template may be sent."
    ),
    131048: "Spam rate limit: too many of this number's messages were blocked or reported.",
    131049: (
        "Meta chose not to deliver this marketing message, to keep engagement healthy. "
        "Do not retry at once."
    ),
    131050: "The recipient stopped marketing messages from this business.",
    131051: "This message type is not supported.",
    131052: "The customer's media could not be downloaded from WhatsApp.",
    131053: "The media could not be uploaded (type or size not accepted).",
    131056: "Too many messages to this recipient in a short time. Wait before sending more.",
    131057: "The business account is in maintenance mode.",
    132000: "The number of template variables does not match the template.",
    132001: "The template does not exist in this language, or is not approved.",
    132005: "The template's text is too long once its variables are filled in.",
    132007: "The template's content breaks WhatsApp's policies.",
    132012: "A template variable has the wrong format.",
    132015: "The template is paused because of low quality.",
    132016: "The template is disabled because of low quality.",
    133004: "The server is temporarily unavailable.",
    133010: "The sender's phone number is not registered with the Cloud API.",
}


def reason(code: int | None) -> str | None:
    """What ``code`` means in words, or None for a code we do not know (then Meta's own
    message, which the message keeps, says it)."""
    return REASONS.get(code) if code is not None else None
