#!/usr/bin/env python3
"""Fake subscription backends for proxypool's account tests, on 127.0.0.1 only.

ChatGPT (Codex backend): POST {base}/backend-api/codex/responses, needs `Authorization: Bearer <issued access
token>` and `ChatGPT-Account-ID` and `stream: true` (it refuses anything else, as the real one does); its token endpoint POST /oauth/token takes Codex's JSON refresh body
({client_id, grant_type, refresh_token}) and answers {id_token, access_token, refresh_token} (no expires_in: the
access token is a JWT whose `exp` says).
Claude: POST /v1/messages with an issued bearer and the `oauth-2025-04-20` beta; token endpoint
POST /v1/oauth/token (JSON {grant_type, refresh_token, client_id}) answers {access_token, expires_in, refresh_token}.

Sign-in (the authorization-code grant with PKCE, as `proxypoolctl login` runs it):
  GET  /oauth/authorize?client_id=…&code_challenge=…&state=…&redirect_uri=…   (the browser's visit) answers 302 to
       redirect_uri?code=…&state=… for the account named by control "login_as"; a code is single use and bound to
       its challenge, client and redirect URI. Claude's hosted paste page as redirect_uri: 200 {"paste": "code#state"}.
  POST /oauth/token (form, grant_type=authorization_code) / /v1/oauth/token (JSON) check the verifier against the
       challenge (S256) and answer as the refresh grant does (ChatGPT: an id_token with email, plan, account id).
  POST /api/accounts/deviceauth/usercode {client_id} → {device_auth_id, user_code, interval: "1"};
  GET  /codex/device?user_code=…  (the user, elsewhere) approves it;
  POST /api/accounts/deviceauth/token {device_auth_id, user_code} → 403 until then, then
       {authorization_code, code_challenge, code_verifier} (redirect URI {base}/deviceauth/callback).

Refresh tokens are single use and rotate. Test control:
  GET  /backend-api/codex/models, /v1/models   the model lists (`credential test`), bearer checked
  GET  /__mint?kind=chatgpt|claude&name=N&exp=SECONDS   a login as the CLI would hold it (JSON), tokens issued
  POST /__control  {"grant_delay": s, "refuse": bool, "lifetime": s, "quota": {account: {header: value}},
                    "usage": {account: payload} (what GET /backend-api/wham/usage or /api/oauth/usage answers that
                    account with; default a payload without windows),
                    "scripted": bool (answer as fake_upstream.py's scripted model does: its markers, tool calls and
                    streams, for the real clients; the text ends with "(account NAME)"),
                    "empty_completed_output": bool (response.completed without its output, as the real one may),
                    "usage_limit": {account: "429"|"stream"},
                    "revoke_access": true (drop every access token issued so far)}
  GET  /__requests  every request: method, path, headers, body (text), route
  GET  /__grants    {"grants": N, "refused": M, "exchanges": K (authorization codes redeemed)}
"""
import argparse
import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import fake_upstream  # noqa: E402  (beside this file: its scripted model answers the real clients)

LOCK = threading.Lock()
STATE = {"refresh": {}, "access": {}, "grants": 0, "refused": 0, "requests": [], "gen": 0, "codes": {}, "devices": {}, "exchanges": 0,
         "control": {"grant_delay": 0.0, "refuse": False, "lifetime": 864000, "quota": {}, "usage_limit": None,
                     "login_as": "lena"}}
CHATGPT_CLIENT = "app_EMoamEEZ73f0CkXaXp7hrann"
CLAUDE_CLIENT = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
CLAUDE_PASTE_PAGE = "https://console.anthropic.com/oauth/code/callback"


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def jwt(claims):
    return "eyJhbGciOiJub25lIn0." + b64(claims) + ".sig"


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def chatgpt_id_token(name):
    return jwt({"email": name + "@example.com", "https://api.openai.com/auth":
                {"chatgpt_plan_type": "plus", "chatgpt_account_id": "acct-" + name}})


def issue(kind, name, lifetime):
    """A new access token (and refresh token) for account `name`; callers hold LOCK."""
    STATE["gen"] += 1
    g = STATE["gen"]
    exp = int(time.time()) + int(lifetime)
    if kind == "chatgpt":
        access = jwt({"exp": exp, "n": name, "g": g})
    else:
        access = "sk-ant-oat01-%s-%d" % (name, g)
    refresh = "rt-%s-%s-%d" % (kind, name, g)
    STATE["access"][access] = {"kind": kind, "name": name, "exp": exp}
    STATE["refresh"][refresh] = {"kind": kind, "name": name}
    return access, refresh, exp


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, obj, headers=()):
        body = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def handle_any(self):
        url = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        path, q = url.path, parse_qs(url.query)
        if path == "/__mint":
            kind, name, exp = q["kind"][0], q["name"][0], int(q.get("exp", ["864000"])[0])
            with LOCK:
                access, refresh, expires = issue(kind, name, exp)
            if kind == "chatgpt":
                idt = chatgpt_id_token(name)
                return self.send(200, {"OPENAI_API_KEY": None, "tokens": {"id_token": idt, "access_token": access,
                                       "refresh_token": refresh, "account_id": "acct-" + name}, "last_refresh": "2026-12-01T00:00:00Z"})
            return self.send(200, {"claudeAiOauth": {"accessToken": access, "refreshToken": refresh, "expiresAt": expires * 1000,
                                   "scopes": ["user:inference"], "subscriptionType": "max"}})
        if path == "/__control":
            with LOCK:
                c = json.loads(raw or b"{}")
                if c.pop("revoke_access", False):
                    STATE["access"].clear()   # every access token refused from now on, refresh tokens still good
                STATE["control"].update(c)
            return self.send(200, {"ok": True})
        if path == "/__requests":
            with LOCK:
                return self.send(200, list(STATE["requests"]))
        if path == "/__grants":
            with LOCK:
                return self.send(200, {"grants": STATE["grants"], "refused": STATE["refused"], "exchanges": STATE["exchanges"]})
        if path == "/oauth/authorize" and self.command == "GET":
            return self.authorize(q)
        if path == "/codex/device" and self.command == "GET":
            return self.approve_device(q)
        rec = {"method": self.command, "path": self.path, "headers": [[k, v] for k, v in self.headers.items()],
               "body": raw.decode("utf-8", "replace")}
        with LOCK:
            STATE["requests"].append(rec)
            control = dict(STATE["control"])
        if path in ("/oauth/token", "/v1/oauth/token") and self.command == "POST":
            if "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
                form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                return self.code_grant(path, form)
            try:
                if json.loads(raw).get("grant_type") == "authorization_code":
                    return self.code_grant(path, json.loads(raw))
            except (ValueError, AttributeError):
                pass
            return self.token(path, raw, control)
        if path == "/api/accounts/deviceauth/usercode" and self.command == "POST":
            return self.device_usercode(raw)
        if path == "/api/accounts/deviceauth/token" and self.command == "POST":
            return self.device_token(raw)
        if path in ("/backend-api/wham/usage", "/api/oauth/usage") and self.command == "GET":
            t = self.bearer("chatgpt" if path.startswith("/backend-api") else "claude")
            if not t:
                return self.send(401, {"error": {"message": "invalid bearer"}})
            if path.startswith("/backend-api") and self.headers.get("ChatGPT-Account-Id") != "acct-" + t["name"]:
                return self.send(403, {"error": {"message": "wrong ChatGPT-Account-Id"}})
            default = {"plan_type": "plus"} if path.startswith("/backend-api") else {"five_hour": None, "seven_day": None}
            return self.send(200, (control.get("usage") or {}).get(t["name"], default))
        if path == "/backend-api/codex/models" and self.command == "GET":
            t = self.bearer("chatgpt")
            if not t or self.headers.get("ChatGPT-Account-ID") != "acct-" + t["name"]:
                return self.send(401, {"error": {"message": "invalid bearer or account id", "code": "token_expired"}})
            return self.send(200, {"models": [{"slug": "gpt-5-codex", "display_name": "gpt-5-codex"}]})
        if path == "/v1/models" and self.command == "GET":
            t = self.bearer("claude")
            if not t or "oauth-2025-04-20" not in self.headers.get("anthropic-beta", ""):
                return self.send(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid bearer"}})
            return self.send(200, {"data": [{"type": "model", "id": "claude-sonnet-4-5"}], "has_more": False})
        if path.endswith("/backend-api/codex/responses") and self.command == "POST":
            return self.chatgpt(raw, control)
        if path == "/v1/messages" and self.command == "POST":
            return self.claude(raw, control)
        self.send(404, {"error": {"message": "no route " + path}})

    def token(self, path, raw, control):
        if control["grant_delay"]:
            time.sleep(control["grant_delay"])
        try:
            body = json.loads(raw)
        except ValueError:
            return self.send(400, {"error": "invalid_request"})
        chatgpt = path == "/oauth/token"
        want = CHATGPT_CLIENT if chatgpt else CLAUDE_CLIENT
        with LOCK:
            known = STATE["refresh"].pop(body.get("refresh_token", ""), None)
            if body.get("grant_type") != "refresh_token" or body.get("client_id") != want:
                STATE["refused"] += 1
                return self.send(400, {"error": "invalid_client"})
            if control["refuse"] or known is None:
                STATE["refused"] += 1
                if chatgpt:
                    return self.send(401, {"error": {"code": "refresh_token_reused", "message": "already used"}})
                return self.send(400, {"error": "invalid_grant", "error_description": "refresh token revoked"})
            STATE["grants"] += 1
            access, refresh, _ = issue(known["kind"], known["name"], control["lifetime"])
        if chatgpt:
            return self.send(200, {"id_token": jwt({"email": known["name"] + "@example.com"}), "access_token": access, "refresh_token": refresh})
        return self.send(200, {"access_token": access, "expires_in": int(control["lifetime"]), "refresh_token": refresh, "token_type": "Bearer"})

    def authorize(self, q):
        p = {k: v[0] for k, v in q.items()}
        kind = {CHATGPT_CLIENT: "chatgpt", CLAUDE_CLIENT: "claude"}.get(p.get("client_id"))
        scope = {"chatgpt": "offline_access", "claude": "user:inference"}.get(kind, "?")
        if (kind is None or p.get("response_type") != "code" or p.get("code_challenge_method") != "S256" or not p.get("code_challenge")
                or not p.get("state") or not p.get("redirect_uri") or scope not in p.get("scope", "").split(" ")
                or (kind == "claude" and p.get("code") != "true")):
            return self.send(400, {"error": "invalid_request", "error_description": "missing or wrong authorize parameter"})
        with LOCK:
            STATE["gen"] += 1
            code = "ac-%d" % STATE["gen"]
            STATE["codes"][code] = {"kind": kind, "name": STATE["control"]["login_as"], "challenge": p["code_challenge"],
                                    "redirect": p["redirect_uri"]}
        if p["redirect_uri"] == CLAUDE_PASTE_PAGE:
            return self.send(200, {"paste": code + "#" + p["state"]})
        sep = "&" if "?" in p["redirect_uri"] else "?"
        self.send_response(302)
        self.send_header("Location", p["redirect_uri"] + sep + urlencode({"code": code, "state": p["state"]}))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def code_grant(self, path, body):
        chatgpt = path == "/oauth/token"
        with LOCK:
            c = STATE["codes"].pop(body.get("code", ""), None)   # single use, whatever comes of it
            ok = (c is not None and c["kind"] == ("chatgpt" if chatgpt else "claude")
                  and body.get("client_id") == (CHATGPT_CLIENT if chatgpt else CLAUDE_CLIENT)
                  and body.get("redirect_uri") == c["redirect"] and s256(body.get("code_verifier", "")) == c["challenge"]
                  and (chatgpt or body.get("state")))
            if not ok:
                STATE["refused"] += 1
                return self.send(400, {"error": "invalid_grant", "error_description": "code, client, redirect or verifier wrong"})
            STATE["exchanges"] += 1
            access, refresh, _ = issue(c["kind"], c["name"], STATE["control"]["lifetime"])
        if chatgpt:
            return self.send(200, {"id_token": chatgpt_id_token(c["name"]), "access_token": access, "refresh_token": refresh})
        return self.send(200, {"access_token": access, "refresh_token": refresh, "expires_in": int(STATE["control"]["lifetime"]),
                               "token_type": "Bearer", "account": {"uuid": "u-" + c["name"], "email_address": c["name"] + "@example.com"}})

    def device_usercode(self, raw):
        if json.loads(raw or b"{}").get("client_id") != CHATGPT_CLIENT:
            return self.send(400, {"error": "invalid_client"})
        with LOCK:
            STATE["gen"] += 1
            d = "dev-%d" % STATE["gen"]
            STATE["devices"][d] = {"user_code": "UC-%d" % STATE["gen"], "approved": None}
            return self.send(200, {"device_auth_id": d, "user_code": STATE["devices"][d]["user_code"], "interval": "1"})

    def approve_device(self, q):
        with LOCK:
            for d in STATE["devices"].values():
                if d["user_code"] == q.get("user_code", [""])[0] and d["approved"] is None:
                    verifier = base64.urlsafe_b64encode(d["user_code"].encode() * 4).decode().rstrip("=")
                    STATE["gen"] += 1
                    code = "ac-%d" % STATE["gen"]
                    base = "http://127.0.0.1:%d" % self.server.server_address[1]
                    STATE["codes"][code] = {"kind": "chatgpt", "name": STATE["control"]["login_as"], "challenge": s256(verifier),
                                            "redirect": base + "/deviceauth/callback"}
                    d["approved"] = {"authorization_code": code, "code_challenge": s256(verifier), "code_verifier": verifier}
                    return self.send(200, {"ok": True})
        return self.send(404, {"error": "no such code"})

    def device_token(self, raw):
        b = json.loads(raw or b"{}")
        with LOCK:
            d = STATE["devices"].get(b.get("device_auth_id", ""))
            if not d or d["user_code"] != b.get("user_code"):
                return self.send(400, {"error": "unknown device"})
            if d["approved"] is None:
                return self.send(403, {"error": "authorization_pending"})
            return self.send(200, d["approved"])

    def bearer(self, kind):
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        with LOCK:
            t = STATE["access"].get(tok)
        if not t or t["kind"] != kind or t["exp"] < time.time():
            return None
        return t

    def chatgpt(self, raw, control):
        t = self.bearer("chatgpt")
        if not t:
            return self.send(401, {"error": {"message": "invalid bearer", "code": "token_expired"}})
        if self.headers.get("ChatGPT-Account-ID") != "acct-" + t["name"]:
            return self.send(403, {"error": {"message": "wrong ChatGPT-Account-ID"}})
        quota = list(control["quota"].get(t["name"], {}).items())
        limit = (control["usage_limit"] or {}).get(t["name"])
        if limit == "429":
            return self.send(429, {"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
                                             "resets_in_seconds": 3600}}, quota)
        body = json.loads(raw or b"{}")
        if control.get("scripted") and body.get("stream"):
            return self.scripted(body, t["name"], quota, fake_upstream.analyze_responses(body), fake_upstream.build_responses)
        text = "hi from chatgpt " + t["name"]
        resp = {"id": "resp_1", "object": "response", "created_at": int(time.time()), "status": "completed", "model": body.get("model"),
                "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": text, "annotations": []}]}],
                "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}}
        if not body.get("stream"):
            # As the real backend answers (reported in netclaw-dev/netclaw#1289): it streams only.
            return self.send(400, {"detail": "Stream must be set to true"}, quota)
        events = [("response.created", {"type": "response.created", "response": dict(resp, status="in_progress", output=[])})]
        if limit == "stream":
            events.append(("error", {"type": "error", "error": {"type": "usage_limit_reached", "resets_in_seconds": 3600}}))
        else:
            item = resp["output"][0]
            part = item["content"][0]
            events += [
                ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                                "item": dict(item, status="in_progress", content=[])}),
                ("response.content_part.added", {"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0,
                                                 "content_index": 0, "part": dict(part, text="")}),
                ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
                                                "content_index": 0, "delta": text}),
                ("response.output_text.done", {"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0,
                                               "content_index": 0, "text": text}),
                ("response.content_part.done", {"type": "response.content_part.done", "item_id": "msg_1", "output_index": 0,
                                                "content_index": 0, "part": part}),
                ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
                # The backend may send the final response with an empty output (RayBytes/ChatMock#121).
                ("response.completed", {"type": "response.completed",
                                        "response": dict(resp, output=[]) if control.get("empty_completed_output") else resp}),
            ]
        out = b"".join(b"event: %s\ndata: %s\n\n" % (e.encode(), json.dumps(d).encode()) for e, d in events)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        for k, v in quota:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def claude(self, raw, control):
        t = self.bearer("claude")
        if not t:
            return self.send(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid bearer"}})
        betas = [b.strip() for b in self.headers.get("anthropic-beta", "").split(",")]
        if "oauth-2025-04-20" not in betas or self.headers.get("x-api-key"):
            return self.send(401, {"type": "error", "error": {"type": "authentication_error", "message": "OAuth needs the oauth beta"}})
        if "claude-code-20250219" not in betas:
            return self.send(400, {"type": "error", "error": {"type": "invalid_request_error",
                                   "message": "Third-party apps now draw from your extra usage, not your plan limits."}})
        if (control["usage_limit"] or {}).get(t["name"]) == "429":
            # As Anthropic answers a subscription past a window: the reason is in the unified headers (set by "quota").
            return self.send(429, {"type": "error", "error": {"type": "rate_limit_error",
                                   "message": "This request would exceed your account's rate limit. Please try again later."}},
                             list(control["quota"].get(t["name"], {}).items()))
        body = json.loads(raw or b"{}")
        if control.get("scripted"):
            return self.scripted(body, t["name"], list(control["quota"].get(t["name"], {}).items()),
                                 fake_upstream.analyze_anthropic(body), fake_upstream.build_anthropic)
        self.send(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model"),
                        "content": [{"type": "text", "text": "hi from claude " + t["name"]}], "stop_reason": "end_turn",
                        "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 4}}, list(control["quota"].get(t["name"], {}).items()))


def _scripted(self, body, name, headers, analysis, builder):
    """fake_upstream.py's answer to this conversation (a marker text, or a call of one of its tools), streamed
    when the request streams; a text answer names the account."""
    tools, last_kind, last_text, results, tc_none = analysis
    model = body.get("model") or "unknown-model"
    ans = fake_upstream.plan_answer(model, tools, last_kind, last_text, results, tc_none)
    if ans["kind"] == "text":
        ans["text"] += " (account %s)" % name
    ctx = {"model": model, "in_tok": fake_upstream.approx_tokens(body), "body": body, "slow": False, "big_kb": None}
    full, events = builder(ctx, ans)
    if body.get("stream"):
        out, ctype = b"".join(events), "text/event-stream"
    else:
        out, ctype = json.dumps(full).encode(), "application/json"
    self.send_response(200)
    self.send_header("Content-Type", ctype)
    for k, v in headers:
        self.send_header(k, v)
    self.send_header("Content-Length", str(len(out)))
    self.end_headers()
    self.wfile.write(out)


Handler.scripted = _scripted


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
