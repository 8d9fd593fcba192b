#!/bin/sh
# Install the Debian/Ubuntu packages proxypool needs to build and test, only those that are missing.
# Build: the four C libraries (libcrypto signs Vertex AI service-account assertions) and pkg-config.
# Tests: mandoc (man lint), systemd (systemd-analyze, systemd-socket-activate), util-linux (setpriv, script),
# python3 and python3-venv (the fake upstream, and the venv that holds the real clients for the end-to-end
# suite), strace (the end-to-end run's zero-egress check), openssl (the Vertex AI tests make a throwaway RSA
# key and check signatures with it), chromium and chromium-driver (the dashboard's browser test, driven by
# Selenium from the venv), lintian (make deb checks the package with it).
set -eu
build="libcurl4-openssl-dev libsqlite3-dev libsystemd-dev libssl-dev pkg-config"
test="mandoc systemd util-linux python3 python3-venv strace openssl chromium chromium-driver lintian"
want="$build"
[ "${1:-}" = "--with-test-tools" ] && want="$build $test"
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing missing packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
