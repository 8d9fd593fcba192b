#!/usr/bin/env python3
"""Fake Google OAuth token endpoint and fake Vertex AI backend for proxypool tests.

Listens on 127.0.0.1 only. Its only outgoing connections go to the fake upstream given with --upstream (also
on 127.0.0.1), which answers the conversations once this fake has checked what Vertex checks.

    python3 fake_vertex.py --port-file PATH --upstream http://127.0.0.1:PORT --public-key PEM

Token endpoint, POST /token (what https://oauth2.googleapis.com/token does, as far as proxypool uses it):
  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT
      The JWT's RS256 signature is verified with --public-key (the test key's public half; needs python3
      `cryptography`, else `openssl dgst -verify`). Claims: iss == sub, a service-account address;
      aud == this endpoint's URL; scope == https://www.googleapis.com/auth/cloud-platform; iat not in the
      future; exp after now and at most an hour after iat. A kid starting "revoked" is a deleted key.
  grant_type=refresh_token&refresh_token=RT&client_id=ID&client_secret=S (ADC, authorized_user)
      RT must start "1//fake-adc"; one containing "revoked" is refused; ID/S must be the fake's.
  A token lives 3599 s unless the account's or refresh token's text holds "expN" (N seconds); "slow" answers
  after 0.5 s. Refusals are 400 {"error": "invalid_grant", "error_description": ...} as Google answers.

Vertex backend:
  POST /v1/projects/P/locations/L/publishers/google/models/M:(generateContent|streamGenerateContent|countTokens)
      every content needs a role (user or model); no fileData with an http(s) URI.
  POST /v1/projects/P/locations/L/publishers/anthropic/models/M:(rawPredict|streamRawPredict)
      no "model" in the body, anthropic_version == vertex-2023-10-16, "stream" true exactly for
      streamRawPredict, no anthropic-beta that Vertex refuses; M dated with a dash (claude-x-20250929, the
      Anthropic API's form) is 404 NOT_FOUND: Vertex dates with "@" (claude-x@20250929).
  POST /v1/projects/P/locations/L/publishers/anthropic/models/count-tokens:rawPredict
      a Claude token count: "model" (a Vertex id, same 404 rule) and anthropic_version in the body; answers
      {"input_tokens": N} from the fake upstream's /v1/messages/count_tokens.
  GET  /v1/publishers/google/models/M   a model card (credential test)
  Auth: Authorization: Bearer <a token this fake issued, unexpired>, or x-goog-api-key starting "vx-key-ok"
  ("vx-key-denied" answers 403 PERMISSION_DENIED). Project "quota-project" answers 429 RESOURCE_EXHAUSTED with
  a RetryInfo of 7 s.

Control: GET /__vertex {"jwt_grants", "refresh_grants", "refused", "refusals", "requests": [...], "issued": [tokens]};
POST /__reset clears it.
"""

import argparse
import base64
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ADC_CLIENT_ID = "fake-adc-client.apps.googleusercontent.com"
ADC_CLIENT_SECRET = "fake-adc-client-secret"
ANTHROPIC_VERSION = "vertex-2023-10-16"
REFUSED_BETAS = {"web-search-2025-03-05", "effort-2025-11-24", "tool-search-tool-2025-10-19",
                 "prompt-caching-scope-2026-01-05", "adaptive-thinking-2026-01-28", "structured-outputs-2025-11-13",
                 "oauth-2025-04-20", "files-api-2025-04-14"}
DASH_DATED = re.compile(r"-\d{8}$")
PATH_RX = re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/publishers/(google|anthropic)/models/([^/:]+):([A-Za-z]+)$")

LOCK = threading.Lock()
STATE = {"jwt_grants": 0, "refresh_grants": 0, "refused": 0, "refusals": [], "requests": [], "issued": []}
TOKENS = {}  # access token -> expiry (epoch seconds)


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_rs256(signing_input, signature, public_pem):
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        key = serialization.load_pem_public_key(public_pem)
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            return True
        except Exception:
            return False
    except ImportError:
        with tempfile.TemporaryDirectory() as d:
            for name, data in (("pub", public_pem), ("sig", signature), ("msg", signing_input)):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "pub"), "-signature",
                                os.path.join(d, "sig"), os.path.join(d, "msg")], capture_output=True)
            return r.returncode == 0


def lifetime(text):
    m = re.search(r"exp(\d+)", text)
    return min(int(m.group(1)), 86400) if m else 3599


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeVertex/1.0"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def google_error(self, status, code, message, details=None):
        err = {"code": status, "message": message, "status": code}
        if details:
            err["details"] = details
        self.send_json(status, {"error": err})

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/__vertex":
            with LOCK:
                return self.send_json(200, STATE)
        m = re.match(r"^/v1/publishers/google/models/([^/:]+)$", path)
        if m:
            if not self.authorized(path):
                return
            return self.send_json(200, {"name": "publishers/google/models/" + m.group(1), "versionId": "001"})
        self.google_error(404, "NOT_FOUND", "no such path (fake vertex): " + path)

    def do_POST(self):
        u = urlsplit(self.path)
        body = self.body()
        if u.path == "/__reset":
            with LOCK:
                STATE.update({"jwt_grants": 0, "refresh_grants": 0, "refused": 0, "refusals": [], "requests": [], "issued": []})
            return self.send_json(200, {"ok": True})
        if u.path == "/token":
            return self.token(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
        m = PATH_RX.match(u.path)
        if not m:
            return self.google_error(404, "NOT_FOUND", "no such path (fake vertex): " + u.path)
        return self.vertex(m, parse_qs(u.query), body)

    # -- token endpoint ---------------------------------------------------------------------------------------

    def refuse(self, description, error="invalid_grant"):
        with LOCK:
            STATE["refused"] += 1
            STATE["refusals"].append(description)
        self.send_json(400, {"error": error, "error_description": description})

    def issue(self, seconds, kind):
        token = "ya29.fake-vertex-" + uuid.uuid4().hex
        with LOCK:
            TOKENS[token] = time.time() + seconds
            STATE[kind] += 1
            STATE["issued"].append(token)
        self.send_json(200, {"access_token": token, "expires_in": seconds, "token_type": "Bearer"})

    def token(self, form):
        grant = (form.get("grant_type") or [""])[0]
        if grant == JWT_BEARER:
            return self.jwt_grant((form.get("assertion") or [""])[0])
        if grant == "refresh_token":
            rt = (form.get("refresh_token") or [""])[0]
            if (form.get("client_id") or [""])[0] != ADC_CLIENT_ID or (form.get("client_secret") or [""])[0] != ADC_CLIENT_SECRET:
                return self.refuse("The OAuth client was not found.", "invalid_client")
            if not rt.startswith("1//fake-adc") or "revoked" in rt:
                return self.refuse("Token has been expired or revoked.")
            if "slow" in rt:
                time.sleep(0.5)
            return self.issue(lifetime(rt), "refresh_grants")
        return self.refuse("Invalid grant_type: " + grant[:60], "unsupported_grant_type")

    def jwt_grant(self, assertion):
        parts = assertion.split(".")
        if len(parts) != 3:
            return self.refuse("Invalid JWT: the assertion is not three base64url parts.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except Exception:
            return self.refuse("Invalid JWT: the assertion does not decode.")
        if header.get("alg") != "RS256":
            return self.refuse("Invalid JWT: alg must be RS256.")
        if str(header.get("kid", "")).startswith("revoked"):
            return self.refuse("Invalid JWT Signature.")
        if not verify_rs256((parts[0] + "." + parts[1]).encode(), signature, self.server.public_pem):
            return self.refuse("Invalid JWT Signature.")
        now = time.time()
        iss = claims.get("iss", "")
        if not iss.endswith(".iam.gserviceaccount.com") or claims.get("sub", iss) != iss:
            return self.refuse("Invalid JWT: iss and sub must be the service account.")
        if claims.get("aud") != self.server.token_url:
            return self.refuse("Invalid JWT: aud must be %s." % self.server.token_url)
        if claims.get("scope") != SCOPE:
            return self.refuse("Invalid OAuth scope or ID token audience provided.", "invalid_scope")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or iat > now + 60 or exp <= now or exp - iat > 3600:
            return self.refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        if "slow" in iss:
            time.sleep(0.5)
        return self.issue(lifetime(iss), "jwt_grants")

    # -- Vertex backend -----------------------------------------------------------------------------------------

    def authorized(self, path):
        key = self.headers.get("x-goog-api-key")
        auth = self.headers.get("Authorization") or ""
        rec = {"path": path, "auth": "none"}
        with LOCK:
            STATE["requests"].append(rec)
        if key:
            rec["auth"] = "api-key"
            if key.startswith("vx-key-denied"):
                self.google_error(403, "PERMISSION_DENIED", "Permission denied on resource project (fake vertex).")
                return False
            if not key.startswith("vx-key-ok"):
                self.google_error(401, "UNAUTHENTICATED", "API key not valid. Please pass a valid API key.")
                return False
            return True
        if auth.startswith("Bearer "):
            rec["auth"] = "bearer"
            with LOCK:
                exp = TOKENS.get(auth[7:])
            if exp is None or exp <= time.time():
                self.google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
                return False
            return True
        self.google_error(401, "UNAUTHENTICATED", "Request is missing required authentication credential.")
        return False

    def vertex(self, m, query, raw):
        project, location, publisher, model, method = m.groups()
        if not self.authorized(self.path):
            return
        with LOCK:
            rec = STATE["requests"][-1]
        rec.update({"project": project, "location": location, "publisher": publisher, "model": model, "method": method,
                    "beta": self.headers.get("anthropic-beta")})
        if project == "quota-project":
            return self.google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com (fake vertex).",
                                     [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}])
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self.google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if publisher == "google":
            if method not in ("generateContent", "streamGenerateContent", "countTokens"):
                return self.google_error(404, "NOT_FOUND", "no method " + method)
            for i, c in enumerate(body.get("contents") or []):
                if c.get("role") not in ("user", "model"):
                    return self.google_error(400, "INVALID_ARGUMENT", "Please use a valid role: user, model (contents[%d])." % i)
                for p in c.get("parts") or []:
                    uri = (p.get("fileData") or {}).get("fileUri", "")
                    if uri.startswith("http"):
                        return self.google_error(400, "INVALID_ARGUMENT", "fileData of an http URL is not supported: send it inline.")
            path = "/v1beta/models/%s:%s" % (model, method)
            if method == "streamGenerateContent" and "alt" in query:
                path += "?alt=" + query["alt"][0]
            return self.relay(path, {"x-goog-api-key": "fake-ok~vertex"}, json.dumps(body).encode())
        if method not in ("rawPredict", "streamRawPredict"):
            return self.google_error(404, "NOT_FOUND", "no method " + method)
        if model == "count-tokens":
            return self.claude_count(body, method)
        if DASH_DATED.search(model):
            return self.google_error(404, "NOT_FOUND", "Publisher Model `%s` was not found (fake vertex: Vertex dates Claude ids with @)." % model)
        if "model" in body:
            return self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "model: Extra inputs are not permitted"}})
        if body.get("anthropic_version") != ANTHROPIC_VERSION:
            return self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                                   "message": "anthropic_version: must be vertex-2023-10-16"}})
        if bool(body.get("stream")) != (method == "streamRawPredict"):
            return self.google_error(400, "FAILED_PRECONDITION", "stream must be true exactly for streamRawPredict")
        betas = [b.strip() for b in (self.headers.get("anthropic-beta") or "").split(",") if b.strip()]
        bad = [b for b in betas if b in REFUSED_BETAS]
        if bad:
            return self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                                   "message": "Unexpected value(s) %s for the `anthropic-beta` header." % bad}})
        del body["anthropic_version"]
        body["model"] = model
        headers = {"x-api-key": "fake-ok~vertex", "anthropic-version": "2023-06-01"}
        if betas:
            headers["anthropic-beta"] = ",".join(betas)
        return self.relay("/v1/messages", headers, json.dumps(body).encode())

    def claude_count(self, body, method):
        """count-tokens:rawPredict: the model in the body, as Vertex names it."""
        model = body.get("model")
        if method != "rawPredict" or not isinstance(model, str) or not model.startswith("claude"):
            return self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "model: a Claude model id is required"}})
        if DASH_DATED.search(model):
            return self.google_error(404, "NOT_FOUND", "Publisher Model `%s` was not found (fake vertex)." % model)
        if body.get("anthropic_version") != ANTHROPIC_VERSION:
            return self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                                   "message": "anthropic_version: must be vertex-2023-10-16"}})
        with LOCK:
            STATE["requests"][-1]["counted_model"] = model
        del body["anthropic_version"]
        return self.relay("/v1/messages/count_tokens", {"x-api-key": "fake-ok~vertex", "anthropic-version": "2023-06-01"}, json.dumps(body).encode())

    def relay(self, path, headers, body):
        """The fake upstream's answer to the request as the publisher's own API takes it, streamed through."""
        up = urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        try:
            conn.request("POST", path, body=body, headers=dict(headers, **{"Content-Type": "application/json", "Host": "127.0.0.1"}))
            r = conn.getresponse()
            self.send_response(r.status)
            self.send_header("Content-Type", r.getheader("Content-Type") or "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while True:
                chunk = r.read1(65536)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        finally:
            conn.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--upstream", required=True, help="the fake upstream's URL (http://127.0.0.1:PORT)")
    ap.add_argument("--public-key", required=True, help="PEM public key that service-account assertions verify with")
    a = ap.parse_args(argv)
    if not a.upstream.startswith("http://127.0.0.1:"):
        ap.error("the upstream must be on 127.0.0.1")
    srv = Server(("127.0.0.1", 0), Handler)
    srv.upstream = a.upstream
    with open(a.public_key, "rb") as f:
        srv.public_pem = f.read()
    port = srv.server_address[1]
    srv.token_url = "http://127.0.0.1:%d/token" % port
    tmp = a.port_file + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
