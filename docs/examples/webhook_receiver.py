"""A receiver for Xobito's webhooks that checks both signatures (Python 3.11+, stdlib only).

    XOBITO_WEBHOOK_SECRET=whsec_... python3 docs/examples/webhook_receiver.py 9000

listens on http://127.0.0.1:9000/, verifies every POST, prints its event and answers 200
(401 when a signature is wrong). Point a webhook endpoint at it:
    .venv/bin/xobito webhook add demo http://127.0.0.1:9000/hooks
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer


def verify_xobito(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """Xobito's own scheme: X-Webhook-Signature is the lowercase hex HMAC-SHA256 of the raw
    body, keyed with the secret string exactly as shown (whsec_... included)."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Webhook-Signature", ""))


def verify_standard(
    body: bytes, headers: Mapping[str, str], secret: str, tolerance: int = 300
) -> bool:
    """Standard Webhooks: webhook-signature holds space-separated "v1,<base64>" entries (one
    per active secret during a rotation) of HMAC-SHA256 over "{id}.{timestamp}.{body}", keyed
    with the base64-decoded part of the secret after "whsec_". The timestamp must be recent,
    which stops replays of old deliveries."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, entry[3:])
        for entry in headers.get("webhook-signature", "").split()
        if entry.startswith("v1,")
    )


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen: set[str] = set()  # X-Webhook-Id of handled events: deliveries are at-least-once

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = self.headers  # case-insensitive names
        ok_xobito = verify_xobito(body, headers, self.secret)  # type: ignore[arg-type]
        ok_standard = verify_standard(body, headers, self.secret)  # type: ignore[arg-type]
        if not (ok_xobito and ok_standard):
            print(f"refused: X-Webhook-Signature {ok_xobito}, webhook-signature {ok_standard}")
            self.send_response(401)
            self.end_headers()
            return
        event_id = headers.get("X-Webhook-Id", "")
        duplicate = event_id in self.seen
        self.seen.add(event_id)
        event = json.loads(body)
        print(
            f"verified {headers.get('X-Webhook-Event')} {event_id}"
            + (" (again: already handled)" if duplicate else "")
            + f": {json.dumps(event.get('data'))[:200]}",
            flush=True,
        )
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    Receiver.secret = os.environ["XOBITO_WEBHOOK_SECRET"]
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()


if __name__ == "__main__":
    main()
