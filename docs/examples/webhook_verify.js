// Verifying Xobito's webhooks in Node.js (18+), no dependencies. `rawBody` is the exact bytes
// received (a Buffer: e.g. express.raw({type: "application/json"})); `headers` as Node gives
// them (lower-case names); `secret` the whsec_... string shown when the endpoint was created.
const crypto = require("node:crypto");

function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// Xobito's scheme: hex HMAC-SHA256 of the body, keyed with the secret string as shown.
function verifyXobito(rawBody, headers, secret) {
  const expected = crypto.createHmac("sha256", secret).update(rawBody).digest("hex");
  return safeEqual(expected, headers["x-webhook-signature"] || "");
}

// Standard Webhooks: "v1,<base64>" entries over "{id}.{timestamp}.{body}", keyed with the
// base64-decoded part after "whsec_"; the timestamp must be within `tolerance` seconds.
function verifyStandard(rawBody, headers, secret, tolerance = 300) {
  const id = headers["webhook-id"] || "";
  const timestamp = headers["webhook-timestamp"] || "";
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > tolerance) {
    return false;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = crypto
    .createHmac("sha256", key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), rawBody]))
    .digest("base64");
  return (headers["webhook-signature"] || "")
    .split(" ")
    .some((entry) => entry.startsWith("v1,") && safeEqual(expected, entry.slice(3)));
}

module.exports = { verifyXobito, verifyStandard };
