#!/usr/bin/env bash
# Build proxypool_<version>-<rev>_<arch>.deb with dpkg-deb over a staged `make install DESTDIR=… PREFIX=/usr`
# (why dpkg-deb and not dpkg-buildpackage: README, "Debian package"). Needs the release binaries' build
# dependencies and dpkg-dev; runs `make install`, which runs `make release` when the binaries are stale.
# Then lintian on the result: any error fails the build (warnings are listed in the README with a reason).
#   OUT=dir (default .build/deb)   LINTIAN=no skips lintian (not used by make deb)
# Prints the path of the .deb last. The package is reproducible from the same binaries: every file's mtime,
# and dpkg-deb's member times, are SOURCE_DATE_EPOCH (the last commit's time), owners are root:root and
# dpkg-deb sorts the file list.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/.build/deb}"
PKG=proxypool
DEBREV=1
UPSTREAM=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' "$ROOT/Sources/ProxyPoolCore/Version.swift")
[ -n "$UPSTREAM" ] || { echo "build-deb: no version in Sources/ProxyPoolCore/Version.swift" >&2; exit 1; }
VERSION="$UPSTREAM-$DEBREV"
ARCH=$(dpkg --print-architecture)
head -1 "$ROOT/packaging/debian/changelog" | grep -q "^$PKG ($VERSION) " \
    || { echo "build-deb: packaging/debian/changelog's first entry is not $VERSION: add one" >&2; exit 1; }
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}"

# dpkg-shlibdeps wants a debian/control and the package's files under debian/<package>: that layout, here.
WORK="$OUT/work"
STAGE="$WORK/debian/$PKG"
rm -rf "$WORK" && mkdir -p "$STAGE"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PKG" "$PKG" > "$WORK/debian/control"

# Debian bookworm keeps system units in /lib/systemd/system (lintian: systemd-service-file-outside-lib);
# user units and sysusers.d are under /usr/lib.
make -C "$ROOT" --no-print-directory install DESTDIR="$STAGE" PREFIX=/usr UNITDIR=/lib/systemd/system >&2

# As dh_strip does: make install's `install -s` leaves the compiler's .comment and .note sections.
strip --remove-section=.comment --remove-section=.note "$STAGE/usr/bin/proxypoold" "$STAGE/usr/bin/proxypoolctl"
# Man pages gzipped (-n: no name or time in the header, for reproducibility).
find "$STAGE/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
install -D -m 0644 "$ROOT/packaging/debian/proxypoold.conf" "$STAGE/etc/proxypool/proxypoold.conf"
DOC="$STAGE/usr/share/doc/$PKG"
install -D -m 0644 "$ROOT/packaging/debian/copyright" "$DOC/copyright"
gzip -9n < "$ROOT/packaging/debian/changelog" > "$DOC/changelog.Debian.gz" && chmod 0644 "$DOC/changelog.Debian.gz"

# Depends: the linked libraries from the binaries, and the dlopen'ed ones (libcurl4, libssl3) from a probe
# program that links every symbol the loaders resolve (packaging/dlopen-deps.c). Symbols give libcurl4 only
# the floor of its oldest function; the CURLOPT_/CURLINFO_ values used are as new as the headers we build
# against, so libcurl4's floor is that version (Debian's "built against" rule).
PROBE="$STAGE/dlopen-deps"
${CC:-cc} -o "$PROBE" "$ROOT/packaging/dlopen-deps.c" -I"$ROOT/Sources/CCurl/include" -I"$ROOT/Sources/CCrypto/include" \
    -Wl,--no-as-needed -lcurl -lssl -lcrypto
deps=$(cd "$WORK" && dpkg-shlibdeps -O -e "debian/$PKG/usr/bin/proxypoold" -e "debian/$PKG/usr/bin/proxypoolctl" \
    -e "debian/$PKG/dlopen-deps" 2>&1 | sed -n 's/^shlibs:Depends=//p')
rm -f "$PROBE"
[ -n "$deps" ] || { echo "build-deb: dpkg-shlibdeps computed nothing" >&2; exit 1; }
curl_built=$(pkg-config --modversion libcurl)
deps=$(sed "s/libcurl4 ([^)]*)/libcurl4 (>= $curl_built)/" <<<"$deps")
for need in libc6 libcurl4 libssl3 libsqlite3-0 libsystemd0; do
    grep -q "$need" <<<"$deps" || { echo "build-deb: Depends lacks $need: $deps" >&2; exit 1; }
done

mkdir -p "$STAGE/DEBIAN"
install -m 0755 "$ROOT/packaging/debian/postinst" "$ROOT/packaging/debian/prerm" "$ROOT/packaging/debian/postrm" "$STAGE/DEBIAN/"
echo /etc/proxypool/proxypoold.conf > "$STAGE/DEBIAN/conffiles"
size=$(du -k -s --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$size/" -e "s/@DEPENDS@/$deps/" \
    "$ROOT/packaging/debian/control.in" > "$STAGE/DEBIAN/control"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/conffiles" "$STAGE/DEBIAN/md5sums"
find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

DEB="$OUT/${PKG}_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >&2
echo "Depends: $deps" >&2
if [ "${LINTIAN:-yes}" != no ]; then
    # --fail-on error: a warning is listed (and explained in the README), an error fails the build.
    lintian --fail-on error --info --tag-display-limit 0 "$DEB" >&2 || { echo "build-deb: lintian reported errors" >&2; exit 1; }
    echo "build-deb: lintian: no errors" >&2
fi
echo "$DEB"
