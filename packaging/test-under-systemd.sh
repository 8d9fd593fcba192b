#!/usr/bin/env bash
# Boot a real systemd (Debian bookworm in systemd-nspawn) and run proxypoold as the packaged system unit:
# user from sysusers.d, Type=notify READY, hardening, journal fields, control socket mode and group, store
# modes, reload, and a request through the proxy to a fake upstream on the host's loopback.
# Needs root, debootstrap and systemd-container (installed when missing), and release binaries
# (make release). A cold run takes about a minute (debootstrap); the root file system is cached in $WORK.
# Last line: "N passed, N failed"; exit 0 only if all passed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/tmp/proxypool-nspawn}"
ROOTFS="$WORK/rootfs"
BIN="${BIN:-$ROOT/.build/release}"
pass=0; fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAILED: $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 2; }
for t in debootstrap systemd-nspawn; do
    command -v "$t" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap systemd-container >/dev/null
done
[ -x "$BIN/proxypoold" ] || { echo "no $BIN/proxypoold: run 'make release' first"; exit 2; }

if [ ! -x "$ROOTFS/lib/systemd/systemd" ]; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
    mkdir -p "$WORK"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libcurl4,libsqlite3-0,libssl3,procps,curl \
        bookworm "$ROOTFS" "$mirror" >"$WORK/debootstrap.log" 2>&1 || { echo "debootstrap failed: see $WORK/debootstrap.log"; exit 1; }
fi

# Install what `make install PREFIX=/usr` would, into the container.
install -m 0755 "$BIN/proxypoold" "$BIN/proxypoolctl" "$ROOTFS/usr/bin/"
install -m 0644 "$ROOT/systemd/proxypoold.service" "$ROOT/systemd/proxypoold.socket" "$ROOT/systemd/proxypoold-control.socket" \
    "$ROOTFS/etc/systemd/system/"
install -D -m 0644 "$ROOT/packaging/sysusers.d/proxypool.conf" "$ROOTFS/usr/lib/sysusers.d/proxypool.conf"

# A fake upstream on the host's loopback (the container shares the host network).
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$WORK/fake.port" >"$WORK/fake.log" 2>&1 &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; [ -n "${LEADER:-}" ] && nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1; sleep 1' EXIT
for _ in $(seq 100); do [ -s "$WORK/fake.port" ] && break; sleep 0.05; done

setsid timeout 600 systemd-nspawn -q -D "$ROOTFS" -b --console=pipe --register=no --keep-unit >"$WORK/nspawn.log" 2>&1 </dev/null &
NSPAWN=$!
LEADER=""
for _ in $(seq 100); do
    child=$(cat /proc/$NSPAWN/task/*/children 2>/dev/null | awk '{print $1}')
    [ -n "$child" ] && LEADER=$(cat /proc/$child/task/*/children 2>/dev/null | awk '{print $1}')
    [ -n "$LEADER" ] && break
    sleep 0.1
done
[ -n "$LEADER" ] || { bad "container did not start: $(cat "$WORK/nspawn.log")"; finish; }
IN() { nsenter -t "$LEADER" -a "$@"; }
for _ in $(seq 300); do
    case "$(IN systemctl is-system-running 2>&1)" in running|degraded) break;; esac
    sleep 0.2
done

IN systemd-sysusers >/dev/null 2>&1
IN getent passwd proxypool >/dev/null && ok "sysusers created user proxypool" || bad "no user proxypool"
IN systemctl daemon-reload
if IN systemctl start proxypoold.service; then ok "systemctl start returned (READY=1 received)"; else bad "start failed: $(IN journalctl -u proxypoold --no-pager | tail -5)"; fi
[ "$(IN systemctl show -p ActiveState --value proxypoold)" = active ] && ok "active" || bad "not active"
status=$(IN systemctl show -p StatusText --value proxypoold)
case "$status" in *"credentials"*"proxy on 127.0.0.1:8081"*) ok "STATUS= '$status'";; *) bad "StatusText '$status'";; esac
[ "$(IN ps -o user= -C proxypoold | head -1)" = proxypool ] && ok "runs as user proxypool" || bad "runs as $(IN ps -o user= -C proxypoold)"
sock=$(IN stat -c '%a %G' /run/proxypool/control.sock)
[ "$sock" = "660 proxypool" ] && ok "control socket 0660 group proxypool" || bad "control socket is '$sock'"
db=$(IN stat -c '%a %U' /var/lib/proxypool/proxypool.db)
[ "$db" = "600 proxypool" ] && ok "store 0600 owned by proxypool" || bad "store is '$db'"

FAKE_URL="http://127.0.0.1:$(cat "$WORK/fake.port")"
echo fake-ok | IN proxypoolctl credential add up --provider anthropic --base-url "$FAKE_URL" --key-stdin >/dev/null \
    && ok "proxypoolctl as root over /run/proxypool/control.sock" || bad "credential add failed"
key=$(IN proxypoolctl key create --app claude-code 2>/dev/null)
IN proxypoolctl assign claude-code up >/dev/null
out=$(IN curl -s http://127.0.0.1:8081/v1/messages -H "x-api-key: $key" -H 'anthropic-version: 2023-06-01' \
    -d '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}')
case "$out" in *FAKE-UPSTREAM-OK*) ok "request proxied to the upstream on the host";; *) bad "proxy answered: $out";; esac

IN systemctl reload proxypoold && sleep 0.5
[ "$(IN systemctl show -p ActiveState --value proxypoold)" = active ] && ok "reload (SIGHUP, RELOADING=1 … READY=1)" || bad "reload"
journal=$(IN journalctl -u proxypoold -o verbose --no-pager)
for field in "SYSLOG_IDENTIFIER=proxypoold" "PROXYPOOL_EVENT=daemon-ready" "PROXYPOOL_EVENT=credential-added" \
             "PROXYPOOL_EVENT=request" "PROXYPOOL_APP=claude-code" "PROXYPOOL_EVENT=reloaded"; do
    grep -q "$field" <<<"$journal" && ok "journal has $field" || bad "journal lacks $field"
done
IN journalctl -u proxypoold PROXYPOOL_EVENT=credential-added --no-pager -q | grep -q "credential up added" \
    && ok "journalctl -u proxypoold PROXYPOOL_EVENT=credential-added" || bad "field match in journalctl"
grep -q "fake-ok" <<<"$journal" && bad "a secret is in the journal" || ok "no secret in the journal"
IN systemctl stop proxypoold && [ "$(IN systemctl show -p Result --value proxypoold)" = success ] \
    && ok "stop: clean exit" || bad "stop result $(IN systemctl show -p Result --value proxypoold)"
finish
