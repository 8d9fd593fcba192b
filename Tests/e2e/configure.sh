#!/usr/bin/env bash
# `proxypoolctl configure --write` end to end: the REAL Codex CLI and Claude Code, on a temp HOME, find the proxy
# and their access key only in the files configure wrote (their environment holds neither), and talk through
# proxypoold to the fake upstream. The temp HOME starts with settings of the user's own (comments, other
# providers, the clients' quiet switches): they must survive, and the clients must still accept the files.
# Needs built binaries (swift build) and Tests/e2e/setup.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROXYPOOL_BIN_DIR:-$ROOT/.build/debug}"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
bash "$ROOT/Tests/e2e/setup.sh" >/dev/null
T="$(mktemp -d /tmp/proxypool-configure-XXXXXX)"
cleanup() { kill "$DAEMON" "$FAKE" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
site() { "$VENV/bin/python" -c 'import site,os,sys; print(next(os.path.join(d,sys.argv[1]) for d in site.getsitepackages() if os.path.exists(os.path.join(d,sys.argv[1]))))' "$1"; }
CLAUDE="${E2E_CLAUDE_BIN:-$(site claude_agent_sdk/_bundled/claude)}"
CODEX="${E2E_CODEX_BIN:-$(site codex_cli_bin/bin/codex)}"

python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
"$BIN/proxypoold" --state-dir "$T/state" --control-socket "$T/control.sock" --listen 127.0.0.1:0 --config /dev/null \
    --log-level info 2>"$T/daemon.log" & DAEMON=$!
for _ in $(seq 100); do [ -s "$T/fake.port" ] && [ -S "$T/control.sock" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
export FAKE_KEY=fake-ok
ctl() { "$BIN/proxypoolctl" --socket "$T/control.sock" "$@"; }
ctl credential add openai-fake --provider openai --base-url "$FAKE_URL/v1" --key-env FAKE_KEY >/dev/null
ctl credential add anthropic-fake --provider anthropic --base-url "$FAKE_URL" --key-env FAKE_KEY >/dev/null
ctl assign claude-code anthropic-fake >/dev/null
ctl assign codex openai-fake >/dev/null
unset FAKE_KEY
echo "configure e2e: logs in $T" >&2

H="$T/home"; mkdir -p "$H/.codex" "$H/.claude" "$T/work"
# The user's own settings before configure (the quiet switches keep the clients off the network).
cat >"$H/.codex/config.toml" <<'TOML'
# my Codex settings: configure must keep this comment
model = "gpt-5-codex"
check_for_update_on_startup = false
approval_policy = "never"
sandbox_mode = "read-only"

[analytics]
enabled = false   # no telemetry

[features]
plugins = false
apps = false
remote_plugin = false

[model_providers.other]
name = "Other"
base_url = "https://other.invalid/v1"
env_key = "OTHER_KEY"
TOML
cat >"$H/.claude/settings.json" <<'JSON'
{
  "env": {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "ANTHROPIC_AUTH_TOKEN": "sk-ant-oat01-not-a-real-account-token"
  },
  "includeCoAuthoredBy": false
}
JSON
cp "$H/.codex/config.toml" "$T/config.toml.orig"; cp "$H/.claude/settings.json" "$T/settings.json.orig"

status=0
fail() { echo "configure e2e: FAILED: $*" >&2; status=1; }
HOME="$H" ctl configure codex --write >"$T/configure-codex.out" 2>&1 || fail "configure codex --write: $(cat "$T/configure-codex.out")"
HOME="$H" ctl configure claude-code --write >"$T/configure-claude.out" 2>&1 || fail "configure claude-code --write: $(cat "$T/configure-claude.out")"
grep -q '^# my Codex settings: configure must keep this comment$' "$H/.codex/config.toml" || fail "the Codex comment is gone"
grep -q '^\[model_providers.other\]$' "$H/.codex/config.toml" || fail "the other Codex provider is gone"
grep -q '"includeCoAuthoredBy": false' "$H/.claude/settings.json" || fail "a Claude Code setting is gone"
grep -q 'ANTHROPIC_AUTH_TOKEN' "$H/.claude/settings.json" && fail "ANTHROPIC_AUTH_TOKEN is still set beside the API key"
grep -q 'fake-ok' "$H/.codex/config.toml" "$H/.codex/.env" "$H/.claude/settings.json" && fail "an upstream key was written into a tool's file"

# The clients' environment: no proxy URL, no key; only HOME (and the dead egress proxy).
child_env=(env -i PATH=/usr/bin:/bin HOME="$H" TMPDIR=/tmp LANG=C.UTF-8 TERM=dumb
           HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost,::1)
cd "$T/work"
if "${child_env[@]}" timeout 120 "$CODEX" exec --skip-git-repo-check --sandbox read-only -o "$T/codex-last.txt" -- \
        "say hi FAKE-TEXT-ONLY configure-e2e" </dev/null >"$T/codex.out" 2>"$T/codex.err"; then
    grep -q FAKE-UPSTREAM-OK "$T/codex-last.txt" || fail "Codex's answer lacks the fake's marker: $(tail -c 2000 "$T/codex.err")"
else
    fail "codex exec exited $?: $(tail -c 3000 "$T/codex.err")"
fi
if "${child_env[@]}" timeout 120 "$CLAUDE" -p "say hi FAKE-TEXT-ONLY configure-e2e" --output-format json </dev/null >"$T/claude.out" 2>"$T/claude.err"; then
    python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); sys.exit(0 if not o.get("is_error") and "FAKE-UPSTREAM-OK" in o["result"] else 1)' "$T/claude.out" ||
        fail "Claude Code's answer: $(tail -c 2000 "$T/claude.out")"
else
    fail "claude -p exited $?: $(tail -c 3000 "$T/claude.err") $(tail -c 1000 "$T/claude.out")"
fi

# The daemon saw each client as its app, through the key configure bound to it, served by its assignment.
sleep 1.5
for pair in claude-code:anthropic-fake codex:openai-fake; do
    app=${pair%%:*}; cred=${pair##*:}
    grep -q "app=$app credential=$cred .*status=200" "$T/daemon.log" || fail "no successful request from $app through $cred in the daemon log"
done
ctl key list >&2

# Undo gives back the user's files byte for byte.
HOME="$H" ctl configure codex --undo >/dev/null && HOME="$H" ctl configure claude-code --undo >/dev/null || fail "undo"
cmp -s "$H/.codex/config.toml" "$T/config.toml.orig" || fail "codex --undo did not restore config.toml"
cmp -s "$H/.claude/settings.json" "$T/settings.json.orig" || fail "claude-code --undo did not restore settings.json"
[ -e "$H/.codex/.env" ] && fail "codex --undo left the .env it created"
[ $status = 0 ] && echo "configure e2e: ok (Codex CLI and Claude Code through proxypoold with the files configure wrote)" >&2
exit $status
