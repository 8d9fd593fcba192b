# proxypool: build, run, test, install.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
USERUNITDIR ?= $(PREFIX)/lib/systemd/user
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SWIFT ?= swift
CLANG ?= $(dir $(shell command -v $(SWIFT)))clang
# Release binaries link the Swift runtime statically, and its C++ library too: the linker keeps only what is
# used, and libstdc++.so's load-time work goes (~0.8 MiB less idle RSS, measured). Swift's link arguments say
# -lstdc++, so a directory holding only the archive, searched first, makes the linker take the archive.
STATIC_CXX = .build/static-libstdc++
# Linked by lld (in the Swift toolchain) for two things gold lacks, both for idle memory (docs/performance.md):
# relative relocations packed (-z pack-relative-relocs: ld.so reads ~8 KiB instead of ~1 MiB of .rela.dyn; glibc
# 2.36+), and functions placed in the order the daemon runs them (packaging/proxypoold.order, written by
# packaging/link-order.sh; each function in its own section so the linker can move it).
LINK_ORDER = packaging/proxypoold.order
# Dynamic exclusivity checks are left out of the release build (-enforce-exclusivity=unchecked): they cost ~90
# runtime calls and ~7.7k of ~87k instructions per proxied request (callgrind, docs/performance.md). The compiler's
# static checks stay, and the test builds keep the dynamic ones (debug: swift test and make check's integration
# tests; -O: the fuzz targets; make sanitize), so an overlapping access on a tested path still traps there.
# -cross-module-optimization lets the small functions of one module (the wire parsers, the record) be inlined
# and specialised in another: ~1.2k fewer instructions per request for ~170 KB more text.
RELEASE_FLAGS = -c release --static-swift-stdlib -Xswiftc -L$(CURDIR)/$(STATIC_CXX) -Xswiftc -enforce-exclusivity=unchecked \
	-Xswiftc -cross-module-optimization \
	-Xswiftc -use-ld=lld -Xswiftc -Xfrontend -Xswiftc -function-sections -Xlinker -z -Xlinker pack-relative-relocs \
	-Xlinker --symbol-ordering-file=$(CURDIR)/$(LINK_ORDER) -Xlinker --no-warn-symbol-ordering

.PHONY: all deps test-deps build run check check-local e2e fuzz bench bench-translation systemd-test release install uninstall clean deb e2e-systemd

all: build

deps:
	@sh packaging/install-build-deps.sh

test-deps:
	@sh packaging/install-build-deps.sh --with-test-tools

build: deps
	$(SWIFT) build

# Quick start: build, then run the daemon in the foreground with this user's default paths.
run: build
	.build/debug/proxypoold $(ARGS)

# Every test: unit, store and integration tests that drive the real binaries, the fake upstream's own
# checks, then the real clients
# (Claude Code, Codex CLI, the openai / anthropic / google-genai SDKs, installed from PyPI into .build-e2e/)
# through proxypoold to the fake upstream, to the fake Vertex AI and onto fake subscription accounts, the translation matrix (the four SDK
# clients x the four upstream protocols, against the fake in strict mode), the dashboard in headless Chromium
# (Selenium), Codex CLI and Claude Code with only the files `proxypoolctl configure --write` wrote, every fuzz target
# for FUZZ_SECONDS (about 5 min), and last the Debian package under a real systemd (e2e-systemd below: root and
# systemd-nspawn; without them it says so and fails). `check-local` is all of it but that last step, for any user.
check: check-local e2e-systemd

check-local: test-deps
	$(SWIFT) build
	$(SWIFT) test
	python3 -m unittest Tests/FakeUpstream/test_fake_upstream.py
	bash Tests/e2e/through-proxy.sh
	bash Tests/e2e/codex-websocket.sh
	bash Tests/e2e/vertex.sh
	bash Tests/e2e/accounts.sh
	bash Tests/e2e/matrix.sh
	bash Tests/e2e/dashboard.sh
	bash Tests/e2e/configure.sh
	FUZZ_SEED=1 bash Tests/Fuzz/run.sh $(FUZZ_SECONDS)

# libFuzzer targets for the parsers and codecs (Tests/Fuzz), built apart from .build in .build-fuzz.
# `check` runs each for FUZZ_SECONDS; run longer by hand: `make fuzz FUZZ_SECONDS=600`.
FUZZ_SECONDS ?= 20
fuzz:
	bash Tests/Fuzz/run.sh $(FUZZ_SECONDS)

e2e: build
	bash Tests/e2e/through-proxy.sh
	bash Tests/e2e/codex-websocket.sh
	bash Tests/e2e/vertex.sh
	bash Tests/e2e/accounts.sh
	bash Tests/e2e/matrix.sh
	bash Tests/e2e/dashboard.sh
	bash Tests/e2e/configure.sh

# Throughput, latency, streaming and memory beside nginx (and LiteLLM when it installs), on loopback.
bench: release
	bash bench/run.sh

# What translating between protocols adds (Anthropic ⇄ OpenAI Chat; 1 KB and 100 KB requests; 500-event streams).
bench-translation: release
	bash bench/translation.sh

# The packaged system unit under a real systemd (Debian bookworm booted in systemd-nspawn; needs root and
# a Debian mirror for debootstrap, about a minute cold). Not part of `check`: it needs more than a build machine.
systemd-test: release
	bash packaging/test-under-systemd.sh

# The Debian package, .build/deb/proxypool_<version>-1_<arch>.deb (packaging/build-deb.sh): dpkg-deb over
# `make install DESTDIR=… PREFIX=/usr` (system units in /lib/systemd/system, bookworm's place), man pages gzipped,
# /etc/proxypool/proxypoold.conf as a conffile, copyright and changelog, maintainer scripts from packaging/debian/;
# Depends from dpkg-shlibdeps, the dlopen'ed libcurl4 and libssl3 included (through packaging/dlopen-deps.c).
# lintian runs on the result: an error fails the build (each warning is explained in the README).
deb: test-deps release
	bash packaging/build-deb.sh

# The package under a real systemd (packaging/e2e-systemd.sh; root, systemd-nspawn and the Debian mirror): boots
# bookworm with systemd as PID 1, `apt install ./proxypool_*.deb`, then the system service (notify, status, reload,
# stop, modes, group access), a lingering user's service with the design card's commands and a request to a fake
# upstream in the container, both journals, socket activation, the watchdog, man pages, systemd-analyze security,
# remove and purge. The last step of `check` (about 5 min cold: release build, package, debootstrap); it fails,
# never skips, where it cannot run.
e2e-systemd: deb
	bash packaging/e2e-systemd.sh

# Binaries that run without the Swift toolchain (only libcurl4, opened at run time, libsqlite3-0 and libsystemd0 needed).
release: deps $(STATIC_CXX)/libstdc++.a
	@# SwiftPM does not see the order file: relink when it is newer than the binary.
	@[ ! -e .build/release/proxypoold ] || [ ! $(LINK_ORDER) -nt .build/release/proxypoold ] || rm -f .build/release/proxypoold
	$(SWIFT) build $(RELEASE_FLAGS)
	@ls -l .build/release/proxypoold .build/release/proxypoolctl

$(STATIC_CXX)/libstdc++.a:
	@a=$$($(CLANG) -print-file-name=libstdc++.a); \
	[ -f "$$a" ] || { echo "libstdc++.a not found by $(CLANG): install libstdc++-dev (libstdc++-12-dev on Debian 12)" >&2; exit 1; }; \
	mkdir -p $(@D) && ln -sf "$$a" $@

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 -s .build/release/proxypoold .build/release/proxypoolctl $(DESTDIR)$(BINDIR)/
	install -m 0644 man/proxypoolctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/proxypoold.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/proxypoold.8 $(DESTDIR)$(MANDIR)/man8/
	for u in proxypoold.service proxypoold.socket proxypoold-control.socket; do \
		sed 's|/usr/bin/proxypoold|$(BINDIR)/proxypoold|' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; \
		sed 's|/usr/bin/proxypoold|$(BINDIR)/proxypoold|' systemd/user/$$u > $(DESTDIR)$(USERUNITDIR)/$$u; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u $(DESTDIR)$(USERUNITDIR)/$$u; \
	done
	install -m 0644 packaging/sysusers.d/proxypool.conf $(DESTDIR)$(SYSUSERSDIR)/proxypool.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/proxypoold $(DESTDIR)$(BINDIR)/proxypoolctl \
		$(DESTDIR)$(MANDIR)/man1/proxypoolctl.1 $(DESTDIR)$(MANDIR)/man5/proxypoold.conf.5 $(DESTDIR)$(MANDIR)/man8/proxypoold.8 \
		$(DESTDIR)$(SYSUSERSDIR)/proxypool.conf
	for u in proxypoold.service proxypoold.socket proxypoold-control.socket; do \
		rm -f $(DESTDIR)$(UNITDIR)/$$u $(DESTDIR)$(USERUNITDIR)/$$u; done

clean:
	rm -rf .build .build-fuzz

.PHONY: sanitize soak

# The whole Swift test suite under AddressSanitizer (with LeakSanitizer), then under ThreadSanitizer, each built
# into its own directory (.build-asan, .build-tsan); the integration tests drive the sanitized proxypoold and
# proxypoolctl from there (PROXYPOOL_BIN_DIR). A report from any process, runner, daemon or ctl, fails it, even
# when the test itself passed (Tests/sanitize/run.sh). Not part of `check`: a cold build of each takes minutes.
sanitize: test-deps
	@SWIFT=$(SWIFT) bash Tests/sanitize/run.sh address; a=$$?; \
	SWIFT=$(SWIFT) bash Tests/sanitize/run.sh thread; t=$$?; \
	echo "sanitize: address exit $$a, thread exit $$t"; [ $$a -eq 0 ] && [ $$t -eq 0 ]

# A release proxypoold for SOAK_SECONDS under 200 concurrent streams, JSON load and hostile clients (malformed
# requests, slow clients, mid-stream disconnects), all on 127.0.0.1: RSS flat after warm-up (+/-10%), no error on
# well-formed traffic, the daemon alive with /healthz ok throughout (Tests/soak/soak.py). Not part of `check`.
SOAK_SECONDS ?= 1800
soak: release
	SOAK_SECONDS=$(SOAK_SECONDS) python3 Tests/soak/soak.py
