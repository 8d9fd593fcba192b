#!/usr/bin/env bash
# The Debian package under a real systemd (issue 16): boot Debian bookworm in systemd-nspawn with systemd as
# PID 1, `apt install ./proxypool_*.deb` inside it (dependencies come from the Debian mirror, as on a user's
# machine), then check the system service, a lingering user's service with the design card's commands, the
# journal, socket activation, the watchdog, the man pages, systemd-analyze security, and remove / purge.
# Every step's output is in the log (indented under its "== step" line).
#   DEB=path (default: the newest .build/deb/proxypool_*.deb)   WORK=dir (default /tmp/proxypool-e2e-systemd)
#   WATCHDOG_TEST_SEC=5: the WatchdogSec= of the watchdog step's drop-in (the shipped unit says 30s)
# Needs root, systemd-nspawn and debootstrap (installed when missing), and the Debian mirror apt uses. The
# container shares the host's network (apt needs the mirror), so 127.0.0.1:8081 must be free on the host.
# A cold run debootstraps the base root file system (about a minute, cached in $WORK/base); each run works on a
# fresh copy of it. Where it cannot run (no root, no nspawn, no mirror) it says so and fails: it never skips.
# Last line: "N passed, N failed"; exit 0 only if all passed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/tmp/proxypool-e2e-systemd}"
BASE="$WORK/base"
RUN="$WORK/root"
WATCHDOG_TEST_SEC="${WATCHDOG_TEST_SEC:-5}"
DEB="${DEB:-$(ls -t "$ROOT"/.build/deb/proxypool_*.deb 2>/dev/null | head -1)}"
pass=0; fail=0; T0=$(date +%s)
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAILED: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "== done in $(( $(date +%s) - T0 ))s"; echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
cannot() { echo "e2e-systemd CANNOT RUN: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
step() { echo; echo "== [$(( $(date +%s) - T0 ))s] $*"; }
# Runs a command, its output indented in the log; returns its status.
show() { "$@" > "$WORK/out" 2>&1; local rc=$?; sed 's/^/    /' "$WORK/out"; return $rc; }

[ "$(id -u)" -eq 0 ] || cannot "needs root (systemd-nspawn boots a container)"
for t in debootstrap systemd-nspawn; do
    command -v "$t" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap systemd-container >/dev/null 2>&1
    command -v "$t" >/dev/null || cannot "no $t, and apt-get could not install it"
done
[ -n "$DEB" ] && [ -f "$DEB" ] || cannot "no package: run 'make deb' first (or DEB=path)"
if (exec 3<>/dev/tcp/127.0.0.1/8081) 2>/dev/null; then cannot "127.0.0.1:8081 is in use on the host (the container shares its network)"; fi
mkdir -p "$WORK"

if [ ! -e "$BASE/.proxypool-base-ok" ]; then
    step "debootstrap bookworm (minbase + systemd, dbus-user-session, python3 for the fake upstream, man-db)"
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    [ -n "$mirror" ] || cannot "no Debian mirror in the host's apt sources"
    rm -rf "$BASE"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,python3,man-db,procps,ca-certificates \
        bookworm "$BASE" "$mirror" > "$WORK/debootstrap.log" 2>&1 || cannot "debootstrap failed: see $WORK/debootstrap.log"
    touch "$BASE/.proxypool-base-ok"
fi
step "fresh root file system from $BASE"
rm -rf "$RUN" && cp -a "$BASE" "$RUN" || cannot "cannot copy $BASE"
echo proxypool-e2e > "$RUN/etc/hostname"
# A persistent journal, as on an installed Debian system with /var/log/journal: journald then keeps each user's
# entries in a file that user may read (journalctl --user as that user).
mkdir -p "$RUN/var/log/journal"
install -D -m 0644 "$DEB" "$RUN/root/$(basename "$DEB")"
mkdir -p "$RUN/opt/proxypool-e2e" && cp "$ROOT"/Tests/FakeUpstream/*.py "$RUN/opt/proxypool-e2e/"
install -D -m 0755 "$ROOT/packaging/e2e-post.py" "$RUN/opt/proxypool-e2e/post.py"

step "boot: systemd-nspawn -b (systemd as PID 1)"
setsid timeout 1200 systemd-nspawn -q -D "$RUN" -b --console=pipe --register=no --keep-unit >"$WORK/nspawn.log" 2>&1 </dev/null &
NSPAWN=$!
LEADER=""
trap '[ -n "$LEADER" ] && nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1; for _ in $(seq 50); do kill -0 $NSPAWN 2>/dev/null || break; sleep 0.2; done; kill $NSPAWN 2>/dev/null' EXIT
# The container's PID 1 is nspawn's child once its name is systemd: before that the child may be nspawn's
# short-lived intermediate process, which exits (nsenter would then fail on a vanished /proc/PID/ns).
for _ in $(seq 200); do
    child=$(cat /proc/$NSPAWN/task/*/children 2>/dev/null | awk '{print $1}')
    for c in $([ -n "$child" ] && cat /proc/$child/task/*/children 2>/dev/null); do
        [ "$(cat /proc/$c/comm 2>/dev/null)" = systemd ] && LEADER=$c
    done
    [ -n "$LEADER" ] && break
    sleep 0.1
done
[ -n "$LEADER" ] || cannot "the container did not start: $(cat "$WORK/nspawn.log")"
IN() { nsenter -t "$LEADER" -a "$@"; }
state=unknown
for _ in $(seq 300); do
    state=$(IN systemctl is-system-running 2>&1)
    case "$state" in running|degraded) break;; esac
    sleep 0.2
done
case "$state" in running|degraded) ok "systemd is PID 1 in the container ($state, $(IN systemctl --version | head -1))";;
    *) bad "boot state '$state'"; finish;; esac

# ---------------------------------------------------------------------------------------------------- install
step "apt install ./$(basename "$DEB")"
show IN sh -c 'apt-get update -q 2>&1 | tail -2 && cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y ./proxypool_*.deb 2>&1 | grep -Ev "^(Get|Selecting|Preparing|Unpacking|Reading|Building)"' \
    && IN dpkg-query -W -f='${Status}' proxypool | grep -q "install ok installed" && ok "apt installed the package and its dependencies" \
    || { bad "apt install"; finish; }
show IN dpkg-query -W -f='${Package} ${Version} Depends: ${Depends}\n' proxypool
for lib in libcurl4 libssl3 libsqlite3-0 libsystemd0; do
    IN dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q "install ok installed" && ok "dependency $lib installed" || bad "$lib not installed"
done
show IN dpkg -L proxypool
show IN getent passwd proxypool && ok "postinst: sysusers made user proxypool" || bad "no user proxypool"
show IN systemctl is-enabled proxypoold.service proxypoold.socket proxypoold-control.socket
[ "$(IN systemctl is-enabled proxypoold.service)" = disabled ] && [ "$(IN systemctl is-active proxypoold.service)" = inactive ] \
    && ok "postinst: the system service is neither enabled nor started (the per-user daemon wants 127.0.0.1:8081)" || bad "postinst enabled or started the service"
show IN cat /etc/proxypool/proxypoold.conf >/dev/null; grep -Ev '^\s*(#|$)' "$RUN/etc/proxypool/proxypoold.conf" | grep -q . \
    && bad "proxypoold.conf has settings" || ok "/etc/proxypool/proxypoold.conf: comments only"
IN dpkg-query --showformat='${Conffiles}\n' --show proxypool | grep -q /etc/proxypool/proxypoold.conf && ok "proxypoold.conf is a conffile" || bad "not a conffile"

step "man pages from the package"
for page in proxypoolctl proxypoold proxypoold.conf; do
    if show IN sh -c "MANWIDTH=80 man -P cat $page 2>&1 | head -12" && IN sh -c "MANWIDTH=80 man -P cat $page 2>/dev/null" | grep -q "^NAME"; then
        ok "man $page renders ($(IN man -w "$page"))"
    else bad "man $page"; fi
done

# ---------------------------------------------------------------------------------------------------- fake upstream
step "fake upstream inside the container (systemd-run)"
IN systemd-run -q --unit fake-upstream python3 /opt/proxypool-e2e/fake_upstream.py --port-file /run/fake.port
# The container's /run is its own tmpfs, not $RUN/run: read it from inside.
for _ in $(seq 100); do IN test -s /run/fake.port && break; sleep 0.05; done
FAKE="http://127.0.0.1:$(IN cat /run/fake.port 2>/dev/null)"
show IN systemctl status fake-upstream --no-pager -n 3
show IN python3 -c "import urllib.request; print('$FAKE', urllib.request.urlopen('$FAKE/__health').read().decode())" \
    && ok "fake upstream at $FAKE" || { bad "fake upstream"; finish; }

# ---------------------------------------------------------------------------------------------------- system service
step "systemctl start proxypoold (Type=notify)"
show IN systemctl start proxypoold.service && ok "systemctl start returned (READY=1)" || bad "systemctl start"
show IN systemctl status proxypoold.service --no-pager -n 5
IN systemctl status proxypoold.service --no-pager | grep -q "Active: active (running)" && ok "status: active (running)" || bad "not active (running)"
IN systemctl status proxypoold.service --no-pager | grep -Eq 'Status: "[0-9]+ credentials' && ok "status shows the STATUS= line" || bad "no Status: line"
[ "$(IN ps -o user= -C proxypoold | head -1)" = proxypool ] && ok "runs as user proxypool" || bad "runs as '$(IN ps -o user= -C proxypoold)'"

step "store and socket owners and modes"
show IN stat -c '%A %U:%G %n' /var/lib/proxypool /var/lib/proxypool/proxypool.db /run/proxypool /run/proxypool/control.sock
[ "$(IN stat -c '%a %U' /var/lib/proxypool)" = "700 proxypool" ] && ok "/var/lib/proxypool 0700 proxypool" || bad "state dir"
[ "$(IN stat -c '%a %U' /var/lib/proxypool/proxypool.db)" = "600 proxypool" ] && ok "proxypool.db 0600 proxypool" || bad "store file"
[ "$(IN stat -c '%a %G' /run/proxypool/control.sock)" = "660 proxypool" ] && ok "control.sock 0660 group proxypool" || bad "control socket"

step "group proxypool may use proxypoolctl, another user may not"
IN useradd -m -s /bin/bash -G proxypool alice; IN useradd -m -s /bin/bash bob
show IN runuser -u alice -- proxypoolctl status && ok "alice (group proxypool): proxypoolctl status exit 0" || bad "alice refused"
show IN runuser -u bob -- proxypoolctl status; rc=$?
[ $rc -eq 77 ] && grep -qi "permission denied" "$WORK/out" && grep -q "systemctl --user start proxypoold" "$WORK/out" \
    && ok "bob: permission denied, exit 77, told to run a daemon of his own" || bad "bob: exit $rc"

step "a request through the system daemon to the fake upstream"
show IN sh -c "printf fake-ok~SYSTEM | proxypoolctl credential add up --provider anthropic --base-url $FAKE --key-stdin" || bad "credential add"
SYSKEY=$(IN proxypoolctl key create --app claude-code 2>/dev/null)
show IN proxypoolctl assign claude-code up
show IN env PROXY_KEY="$SYSKEY" python3 /opt/proxypool-e2e/post.py http://127.0.0.1:8081/v1/messages x-api-key \
    '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' 'anthropic-version: 2023-06-01'
grep -q FAKE-UPSTREAM-OK "$WORK/out" && ok "proxied to the fake upstream" || bad "proxy request"

step "systemctl reload proxypoold"
show IN systemctl reload proxypoold.service && sleep 0.5 && [ "$(IN systemctl show -p ActiveState --value proxypoold)" = active ] \
    && ok "reload (SIGHUP: RELOADING=1 … READY=1), still active" || bad "reload"

step "upgrade (apt reinstall): a running daemon is restarted, the admin's enable is kept"
show IN systemctl enable proxypoold.service
pid0=$(IN systemctl show -p MainPID --value proxypoold)
show IN sh -c 'cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall ./proxypool_*.deb 2>&1 | tail -2'
pid1=$(IN systemctl show -p MainPID --value proxypoold)
[ "$pid1" != "$pid0" ] && [ "$pid1" != 0 ] && [ "$(IN systemctl is-active proxypoold)" = active ] \
    && ok "postinst try-restart: the running daemon was restarted (pid $pid0 -> $pid1)" || bad "upgrade restart ($pid0 -> $pid1)"
[ "$(IN systemctl is-enabled proxypoold.service)" = enabled ] && ok "the admin's enable survived the upgrade" || bad "enable lost"
show IN systemctl disable proxypoold.service

step "journalctl -u proxypoold: PROXYPOOL_* fields, no secret"
IN journalctl -u proxypoold -o verbose --no-pager > "$WORK/journal.system" 2>&1
grep -E '^\s+(MESSAGE|PROXYPOOL_[A-Z_]+)=' "$WORK/journal.system" | sed 's/^ */    /' | head -40
for field in PROXYPOOL_EVENT=daemon-ready PROXYPOOL_EVENT=credential-added PROXYPOOL_EVENT=request PROXYPOOL_APP=claude-code PROXYPOOL_EVENT=reloaded; do
    grep -q "$field" "$WORK/journal.system" && ok "journal has $field" || bad "journal lacks $field"
done
grep -q -e fake-ok -e "$SYSKEY" "$WORK/journal.system" && bad "a secret is in the journal" || ok "no secret (credential or access key) in the journal"

step "systemd-analyze security proxypoold.service (in the booted system; fails above 2.0)"
show IN systemd-analyze security --no-pager proxypoold.service
score=$(sed -n 's/.*Overall exposure level for proxypoold.service: \([0-9.]*\).*/\1/p' "$WORK/out")
[ -n "$score" ] && awk "BEGIN{exit !($score <= 2.0)}" && ok "system unit exposure $score (limit 2.0)" || bad "system unit exposure '$score'"

step "systemctl stop proxypoold"
show IN systemctl stop proxypoold.service
[ "$(IN systemctl show -p Result --value proxypoold)" = success ] && [ "$(IN systemctl show -p ExecMainStatus --value proxypoold)" = 0 ] \
    && ok "clean stop (Result=success, exit 0)" || bad "stop: $(IN systemctl show -p Result -p ExecMainStatus proxypoold)"

# ---------------------------------------------------------------------------------------------------- socket activation
step "socket activation: proxy port"
show IN systemctl start proxypoold.socket proxypoold-control.socket
[ "$(IN systemctl is-active proxypoold.service)" = inactive ] && ok "sockets listening, service inactive" || bad "service already active"
show IN env PROXY_KEY="$SYSKEY" python3 /opt/proxypool-e2e/post.py http://127.0.0.1:8081/v1/messages x-api-key \
    '{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' 'anthropic-version: 2023-06-01'
grep -q FAKE-UPSTREAM-OK "$WORK/out" && [ "$(IN systemctl is-active proxypoold.service)" = active ] \
    && ok "a proxy request started the service and was answered" || bad "proxy socket activation"
show IN journalctl -u proxypoold -n 3 --no-pager -o cat
step "socket activation: control socket"
show IN systemctl stop proxypoold.service
[ "$(IN systemctl is-active proxypoold.service)" = inactive ] && [ "$(IN systemctl is-active proxypoold-control.socket)" = active ] \
    && ok "service stopped, sockets still listening" || bad "after stop"
show IN proxypoolctl status && [ "$(IN systemctl is-active proxypoold.service)" = active ] \
    && ok "proxypoolctl status started the service and was answered" || bad "control socket activation"
show IN systemctl stop proxypoold.socket proxypoold-control.socket proxypoold.service

# ---------------------------------------------------------------------------------------------------- watchdog
step "watchdog: an event loop that stops turning is restarted by systemd (drop-in: WatchdogSec=${WATCHDOG_TEST_SEC}s + PROXYPOOL_TEST_STALL_EVENT_LOOP=1)"
DROPIN=/run/systemd/system/proxypoold.service.d/stall.conf
IN sh -c "mkdir -p ${DROPIN%/*} && printf '[Service]\nEnvironment=PROXYPOOL_TEST_STALL_EVENT_LOOP=1\nWatchdogSec=%ss\n' $WATCHDOG_TEST_SEC > $DROPIN"
show IN systemctl cat proxypoold.service | tail -4
IN systemctl daemon-reload
IN systemctl reset-failed proxypoold.service 2>/dev/null
IN systemctl start proxypoold.service
pid0=$(IN systemctl show -p MainPID --value proxypoold); n0=$(IN systemctl show -p NRestarts --value proxypoold); t0=$(date +%s.%N)
restarted=""
for _ in $(seq $(( (WATCHDOG_TEST_SEC + 10) * 10 ))); do
    [ "$(IN systemctl show -p NRestarts --value proxypoold)" -gt "$n0" ] && { restarted=$(date +%s.%N); break; }
    sleep 0.1
done
show IN journalctl -u proxypoold --no-pager -o short-monotonic -n 12
if [ -n "$restarted" ] && grep -q "Watchdog timeout" "$WORK/out"; then
    for _ in $(seq 100); do [ "$(IN systemctl show -p ActiveState --value proxypoold)" = active ] && break; sleep 0.1; done
    ok "watchdog timeout after $(awk "BEGIN{printf \"%.1f\", $restarted - $t0}")s, restarted (pid $pid0 -> $(IN systemctl show -p MainPID --value proxypoold), $(IN systemctl show -p ActiveState --value proxypoold))"
else bad "no watchdog restart within $((WATCHDOG_TEST_SEC + 10))s"; fi
IN rm -f "$DROPIN"; IN systemctl daemon-reload
IN systemctl restart proxypoold.service && sleep $((WATCHDOG_TEST_SEC + 1)) && [ "$(IN systemctl show -p NRestarts --value proxypoold)" -eq 0 ] \
    && [ "$(IN systemctl is-active proxypoold)" = active ] && ok "without the switch: active, no restart in ${WATCHDOG_TEST_SEC}s+1s" || bad "after the watchdog test"
IN systemctl stop proxypoold.service

# ---------------------------------------------------------------------------------------------------- user service
step "user service: a lingering user, the design card's commands"
IN useradd -m -s /bin/bash carol
CUID=$(IN id -u carol)
show IN loginctl enable-linger carol
for _ in $(seq 100); do IN systemctl is-active -q "user@$CUID.service" && break; sleep 0.1; done
AS_CAROL() { IN runuser -u carol -- env -C /home/carol HOME=/home/carol XDG_RUNTIME_DIR=/run/user/$CUID DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$CUID/bus "$@"; }
show AS_CAROL systemctl --user start proxypoold && ok "carol: systemctl --user start proxypoold" || bad "user start"
show AS_CAROL systemctl --user status proxypoold --no-pager -n 3
AS_CAROL systemctl --user status proxypoold --no-pager | grep -q "Active: active (running)" && ok "user service active (running)" || bad "user service not running"
show AS_CAROL sh -c "printf fake-ok~AZURE | proxypoolctl credential add azure-key-1 --provider azure-openai --base-url $FAKE/openai/v1 --key-stdin" \
    && ok "carol: proxypoolctl credential add azure-key-1 --provider azure-openai … --key-stdin" || bad "credential add"
show AS_CAROL proxypoolctl assign codex azure-key-1 && ok "carol: proxypoolctl assign codex azure-key-1" || bad "assign"
USERKEY=$(AS_CAROL proxypoolctl key create --app codex 2>/dev/null)
show AS_CAROL env PROXY_KEY="$USERKEY" python3 /opt/proxypool-e2e/post.py http://127.0.0.1:8081/v1/responses authorization \
    '{"model":"gpt-5-codex","input":"hi","stream":false}' 'originator: codex_cli_rs'
grep -q FAKE-UPSTREAM-OK "$WORK/out" && grep -q "x-proxypool-credential: azure-key-1" "$WORK/out" \
    && ok "carol's Codex-shaped request went through azure-key-1 to the fake upstream" || bad "user proxy request"
show IN python3 -c "import json,urllib.request; r=json.load(urllib.request.urlopen('$FAKE/__requests')); r=r.get('requests', r) if isinstance(r, dict) else r; print([(x.get('path'), x.get('api')) for x in r][-1])"
grep -q "/openai/v1/responses" "$WORK/out" && ok "the fake upstream saw POST /openai/v1/responses (Azure)" || bad "the fake did not see the Azure request"
show IN stat -c '%A %U %n' /home/carol/.local/state/proxypool /home/carol/.local/state/proxypool/proxypool.db
[ "$(IN stat -c '%a %U' /home/carol/.local/state/proxypool/proxypool.db)" = "600 carol" ] \
    && [ "$(IN stat -c '%a' /home/carol/.local/state/proxypool)" = 700 ] && ok "store in ~carol/.local/state/proxypool (0700, db 0600 carol)" || bad "user store"

step "the user daemon's sandbox (PrivateUsers=yes): its mounts"
UPID=$(AS_CAROL systemctl --user show -p MainPID --value proxypoold)
IN awk '{print $5, $6}' /proc/$UPID/mountinfo > "$WORK/out" 2>&1
sed 's/^/    /' "$WORK/out"
awk '$1=="/" && $2 ~ /^ro/ {r=1} $1=="/home/carol/.local/state/proxypool" && $2 ~ /^rw/ {s=1} $1=="/proc/sys" && $2 ~ /^ro/ {k=1} END {exit !(r && s && k)}' "$WORK/out" \
    && ok "the user daemon sees / (home included) and /proc/sys read-only, its store read-write" || bad "user sandbox mounts"
IN cat /proc/$UPID/uid_map | sed 's/^/    uid_map: /'

step "journalctl --user -u proxypoold (as carol): PROXYPOOL_* fields, no secret"
AS_CAROL journalctl --user -u proxypoold -o verbose --no-pager > "$WORK/journal.user" 2>&1
grep -E '^\s+(MESSAGE|PROXYPOOL_[A-Z_]+)=' "$WORK/journal.user" | sed 's/^ */    /' | head -30
for field in PROXYPOOL_EVENT=daemon-ready PROXYPOOL_EVENT=credential-added PROXYPOOL_EVENT=request PROXYPOOL_APP=codex PROXYPOOL_CREDENTIAL=azure-key-1; do
    grep -q "$field" "$WORK/journal.user" && ok "user journal has $field" || bad "user journal lacks $field"
done
grep -q -e fake-ok -e "$USERKEY" "$WORK/journal.user" && bad "a secret is in the user journal" || ok "no secret in the user journal"

step "systemd-analyze security --user proxypoold.service (as carol)"
show AS_CAROL systemd-analyze security --user --no-pager proxypoold.service
uscore=$(sed -n 's/.*Overall exposure level for proxypoold.service: \([0-9.]*\).*/\1/p' "$WORK/out")
[ -n "$uscore" ] && ok "user unit exposure $uscore" || bad "no user unit score"
show AS_CAROL systemctl --user stop proxypoold && [ "$(AS_CAROL systemctl --user show -p Result --value proxypoold)" = success ] \
    && ok "user service: clean stop" || bad "user stop"

step "socket activation of the user units"
show AS_CAROL systemctl --user start proxypoold.socket proxypoold-control.socket
show AS_CAROL env PROXY_KEY="$USERKEY" python3 /opt/proxypool-e2e/post.py http://127.0.0.1:8081/v1/responses authorization \
    '{"model":"gpt-5-codex","input":"hi","stream":false}' 'originator: codex_cli_rs'
grep -q FAKE-UPSTREAM-OK "$WORK/out" && [ "$(AS_CAROL systemctl --user is-active proxypoold.service)" = active ] \
    && ok "user proxy socket: a request started carol's daemon and was answered" || bad "user proxy socket activation"
AS_CAROL systemctl --user stop proxypoold.service
show AS_CAROL proxypoolctl status && [ "$(AS_CAROL systemctl --user is-active proxypoold.service)" = active ] \
    && ok "user control socket: proxypoolctl status started carol's daemon" || bad "user control socket activation"
AS_CAROL systemctl --user stop proxypoold.socket proxypoold-control.socket proxypoold.service

# ---------------------------------------------------------------------------------------------------- remove, purge
step "apt remove proxypool: state and configuration stay"
show IN sh -c 'DEBIAN_FRONTEND=noninteractive apt-get remove -y proxypool 2>&1 | tail -3'
[ ! -e "$RUN/usr/bin/proxypoold" ] && [ -f "$RUN/var/lib/proxypool/proxypool.db" ] && [ -f "$RUN/etc/proxypool/proxypoold.conf" ] \
    && ok "removed: binaries gone, /var/lib/proxypool/proxypool.db and the conffile kept" || bad "remove"
step "apt purge proxypool: state and configuration go"
show IN sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y proxypool 2>&1 | tail -3'
[ ! -e "$RUN/var/lib/proxypool" ] && [ ! -e "$RUN/etc/proxypool" ] && ! IN dpkg-query -W proxypool >/dev/null 2>&1 \
    && ok "purged: /var/lib/proxypool and /etc/proxypool gone" || bad "purge: $(ls -d "$RUN/var/lib/proxypool" "$RUN/etc/proxypool" 2>&1)"
finish
