#!/usr/bin/env python3
"""Zero egress, from an strace of proxypoold: every place the daemon sent to or connected to must be one it
is allowed to reach.

The trace comes from

    strace -f -qq --seccomp-bpf -yy -s 0 -e trace=connect,sendto,sendmsg,sendmmsg -o TRACE proxypoold ...

(Tests/e2e/through-proxy.sh does this when E2E_EGRESS_TRACE=1, its default). These four calls are every way
a process can name a network destination: connect() for streams and connected datagram sockets, an address
in sendto/sendmsg/sendmmsg for the rest. write()/writev() are not traced: they can only go where a traced
connect() already pointed the socket. -yy makes strace print each socket's endpoints beside its fd, so a send
on an accepted or connected socket shows where it goes too.

Allowed:
  - TCP to a configured upstream (--upstream HOST:PORT, repeatable; in the e2e run the fake on 127.0.0.1);
  - sends on connections accepted on the proxy's listen address (--listen HOST:PORT), i.e. replies to clients;
  - these local AF_UNIX sockets, and no other:
      the control socket (--control-socket PATH), its accepted connections included;
      the journal, /run/systemd/journal/socket (sd_journal_sendv, only under journald), and its stream
        /run/systemd/journal/stdout (stderr under systemd: the logger's send() on fd 2);
      the service manager's notify socket ($NOTIFY_SOCKET, sd_notify, only under systemd; --notify-socket);
      systemd's user database, /run/systemd/userdb/* (nss-systemd: user and group lookups for the control
        socket's peer check and group);
      nscd, /var/run/nscd/socket and /run/nscd/socket, as an attempt that FAILED only: glibc tries it for
        passwd/group lookups, and Debian runs no nscd. A live nscd could also answer host lookups, from its
        shared-memory cache with no system call at all, so a trace with a working nscd cannot prove zero DNS;
  - unnamed AF_UNIX sockets (socket pairs: nothing to connect to, they stay inside the process);
  - AF_UNSPEC connect (that only dissolves a datagram socket's association);
  - send calls on fds that are not sockets (the logger's send() on stderr fails with ENOTSOCK, then writes).
Refused, each with its own message: anything to port 53 or to a nameserver in /etc/resolv.conf (a DNS query),
systemd-resolved's sockets, any other TCP/UDP destination (named "off loopback" when it is), any other
AF_UNIX path, netlink and every other address family, and a send whose destination cannot be read.
The trace must also show at least one connection to an upstream: a trace that saw none proves nothing.

Exit status: 0 clean, 1 a violation (each printed with its trace line), 2 bad usage or unreadable trace.
"""

import argparse
import ipaddress
import os
import re
import sys

CALLS = ("connect", "sendto", "sendmsg", "sendmmsg")
JOURNAL_SOCKET = "/run/systemd/journal/socket"
JOURNAL_STDOUT = "/run/systemd/journal/stdout"
USERDB_DIR = "/run/systemd/userdb/"
NSCD_SOCKETS = ("/var/run/nscd/socket", "/run/nscd/socket")
RESOLVED_PREFIX = "/run/systemd/resolve/"

LINE = re.compile(r"^(?P<pid>\d+)\s+(?P<call>connect|sendto|sendmsg|sendmmsg)\((?P<rest>.*)$")
RESUMED = re.compile(r"^(?P<pid>\d+)\s+<\.\.\. (?P<call>\w+) resumed>(?P<rest>.*)$")
RESULT = re.compile(r"\)\s+=\s+(?P<ret>-?\d+|\?)(?:\s+(?P<errno>E[A-Z0-9]+))?")
# fd<decoration>: with -yy sockets read PROTO:[...], files a path, pipes pipe:[N].
FD = re.compile(r"^(?P<fd>\d+)<(?P<deco>.*?)>,")
SOCKET_DECO = re.compile(r"^(?P<proto>[A-Za-z0-9-]+):\[(?P<inner>.*)\]$")
SA_FAMILY = re.compile(r"sa_family=(?P<family>[A-Z0-9_]+)")
SA_INET = re.compile(r'sa_family=AF_INET, sin_port=htons\((?P<port>\d+)\), sin_addr=inet_addr\("(?P<ip>[0-9.]+)"\)')
SA_INET6 = re.compile(r'sa_family=AF_INET6, sin6_port=htons\((?P<port>\d+)\),[^}]*?inet_pton\(AF_INET6, "(?P<ip>[^"]+)"')
SA_UNIX = re.compile(r'sa_family=AF_UNIX(?:, sun_path=(?P<path>@?"(?:[^"\\]|\\.)*"))?')
ENDPOINTS = re.compile(r"^(?P<local>.+)->(?P<remote>.+)$")
UNIX_PATH = re.compile(r'"((?:[^"\\]|\\.)*)"')


def host_port(text):
    """'127.0.0.1:80' or '[::1]:80' -> (ip, port); None when it is not that."""
    m = re.match(r"^\[(?P<ip>[^\]]+)\]:(?P<port>\d+)$", text) or re.match(r"^(?P<ip>[0-9.]+):(?P<port>\d+)$", text)
    if not m:
        return None
    try:
        return str(ipaddress.ip_address(m.group("ip"))), int(m.group("port"))
    except ValueError:
        return None


def resolv_conf_nameservers(path="/etc/resolv.conf"):
    out = set()
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    try:
                        out.add(str(ipaddress.ip_address(parts[1].split("%")[0])))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


class Call:
    def __init__(self, lineno, text, pid, name, rest):
        self.lineno, self.text, self.pid, self.name, self.rest = lineno, text, pid, name, rest
        self.ret = None        # None: unknown (unfinished, the process died in it)
        self.errno = None
        self.take_result(rest)

    def take_result(self, text):
        m = RESULT.search(text)
        if m and m.group("ret") != "?":
            self.ret = int(m.group("ret"))
            self.errno = m.group("errno")

    @property
    def failed(self):
        return self.ret is not None and self.ret < 0


def parse_trace(lines):
    """The traced calls, each with its result joined from a '<... resumed>' line when strace split it."""
    calls, pending = [], {}
    for lineno, raw in enumerate(lines, 1):
        text = raw.rstrip("\n")
        m = LINE.match(text)
        if m:
            c = Call(lineno, text, m.group("pid"), m.group("call"), m.group("rest"))
            if text.endswith("<unfinished ...>"):
                pending[c.pid] = c
            calls.append(c)
            continue
        m = RESUMED.match(text)
        if m and m.group("pid") in pending and pending[m.group("pid")].name == m.group("call"):
            pending.pop(m.group("pid")).take_result(m.group("rest"))
    return calls


class Checker:
    def __init__(self, upstreams, listens, control_sockets, notify_sockets, nameservers):
        self.upstreams = set(upstreams)
        self.listens = set(listens)
        self.unix_allowed = {p: "control socket" for p in control_sockets}
        self.unix_allowed[JOURNAL_SOCKET] = "journal"
        self.unix_allowed[JOURNAL_STDOUT] = "journal stdout stream"
        for p in notify_sockets:
            self.unix_allowed[p] = "notify socket"
        self.nameservers = set(nameservers)
        self.violations = []   # (lineno, message, text)
        self.counts = {}

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def refuse(self, call, message):
        self.violations.append((call.lineno, message, call.text))

    def dns_reason(self, ip, port):
        if port == 53:
            return "DNS: %s to port 53 (%s:%d)" % ("query", ip, port)
        if ip in self.nameservers:
            return "DNS: to %s, a nameserver in /etc/resolv.conf (port %d)" % (ip, port)
        return None

    def check_inet(self, call, ip, port):
        """An IP destination named in the call's arguments."""
        reason = self.dns_reason(ip, port)
        if reason:
            return self.refuse(call, reason)
        if (ip, port) in self.upstreams:
            return self.count("%s upstream %s:%d" % (call.name, ip, port))
        where = "" if ipaddress.ip_address(ip).is_loopback else " (off loopback)"
        self.refuse(call, "%s to %s:%d, which is not a configured upstream%s" % (call.name, ip, port, where))

    def check_unix_path(self, call, path):
        if path in self.unix_allowed:
            return self.count("%s %s" % (call.name, self.unix_allowed[path]))
        if path.startswith(USERDB_DIR):
            return self.count("%s userdb" % call.name)
        if path in NSCD_SOCKETS:
            if call.name == "connect" and call.failed:
                return self.count("connect nscd (failed: no nscd)")
            return self.refuse(call, "nscd at %s answered: host lookups could go through it unseen, so this "
                               "trace cannot prove zero DNS (stop nscd to run this check)" % path)
        if path.startswith(RESOLVED_PREFIX):
            return self.refuse(call, "DNS: systemd-resolved socket %s" % path)
        self.refuse(call, "%s to AF_UNIX %s, which is not in the allowed list" % (call.name, path))

    def check_addresses(self, call):
        """Every sockaddr the call's arguments name. Returns how many it found."""
        found = 0
        for fam in SA_FAMILY.finditer(call.rest):
            found += 1
            at = call.rest[fam.start():]
            family = fam.group("family")
            if family == "AF_INET":
                m = SA_INET.match(at)
                if not m:
                    self.refuse(call, "an AF_INET address this checker cannot read")
                else:
                    self.check_inet(call, str(ipaddress.ip_address(m.group("ip"))), int(m.group("port")))
            elif family == "AF_INET6":
                m = SA_INET6.match(at)
                if not m:
                    self.refuse(call, "an AF_INET6 address this checker cannot read")
                else:
                    self.check_inet(call, str(ipaddress.ip_address(m.group("ip"))), int(m.group("port")))
            elif family == "AF_UNIX":
                m = SA_UNIX.match(at)
                if not m or m.group("path") is None:
                    self.count("%s unnamed AF_UNIX" % call.name)
                else:
                    p = m.group("path")
                    abstract = p.startswith("@")
                    path = bytes(p.lstrip("@")[1:-1], "utf-8").decode("unicode_escape")
                    self.check_unix_path(call, "@" + path if abstract else path)
            elif family == "AF_UNSPEC" and call.name == "connect":
                self.count("connect AF_UNSPEC (dissolve)")
            else:
                self.refuse(call, "%s with address family %s" % (call.name, family))
        return found

    def check_fd(self, call, named):
        """The fd's own endpoints, as -yy printed them."""
        m = FD.match(call.rest)
        if not m:
            return self.refuse(call, "no fd decoration: was the trace made with -yy?")
        deco = m.group("deco")
        if deco.startswith("/") or deco.startswith("pipe:[") or deco.startswith("anon_inode:"):
            return self.count("%s on a non-socket fd" % call.name)
        s = SOCKET_DECO.match(deco)
        if not s:
            return self.refuse(call, "a socket this checker cannot read: %s" % deco)
        proto, inner = s.group("proto"), s.group("inner")
        if proto.startswith("UNIX"):
            paths = [bytes(p, "utf-8").decode("unicode_escape") for p in UNIX_PATH.findall(inner)]
            for p in paths:
                self.check_unix_path(call, p)
            if not paths and not named:
                self.count("%s unnamed AF_UNIX" % call.name)
            return
        if proto in ("TCP", "TCPv6", "UDP", "UDPv6"):
            e = ENDPOINTS.match(inner)
            if not e:
                if named:
                    return   # not connected yet: the address in the call was checked
                return self.refuse(call, "%s on an unconnected %s socket with no address" % (call.name, proto))
            local, remote = host_port(e.group("local")), host_port(e.group("remote"))
            if not local or not remote:
                return self.refuse(call, "%s endpoints this checker cannot read: %s" % (proto, inner))
            reason = self.dns_reason(*remote)
            if reason:
                return self.refuse(call, reason)
            if remote in self.upstreams:
                return self.count("%s upstream %s:%d" % (call.name, remote[0], remote[1]))
            if local in self.listens and proto.startswith("TCP"):
                return self.count("%s reply to a client" % call.name)
            where = "" if ipaddress.ip_address(remote[0]).is_loopback else " (off loopback)"
            return self.refuse(call, "%s on %s %s:%d -> %s:%d: neither an upstream nor a client of the listen "
                               "address%s" % (call.name, proto, local[0], local[1], remote[0], remote[1], where))
        self.refuse(call, "%s on a %s socket" % (call.name, proto))

    def check(self, calls):
        upstream_connects = 0
        for c in calls:
            named = self.check_addresses(c)
            if c.name != "connect":   # a connect's fd is not connected yet: its address is what counts
                self.check_fd(c, named)
            if c.name == "connect" and (not c.failed or c.errno == "EINPROGRESS"):
                m = SA_INET.search(c.rest) or SA_INET6.search(c.rest)
                if m and (str(ipaddress.ip_address(m.group("ip"))), int(m.group("port"))) in self.upstreams:
                    upstream_connects += 1
        if upstream_connects == 0:
            self.violations.append((0, "the trace shows no connection to an upstream: it cannot have traced the "
                                       "daemon's traffic, so it proves nothing", ""))
        return not self.violations


def address_arg(text):
    hp = host_port(text)
    if not hp:
        raise argparse.ArgumentTypeError("expected IP:PORT or [IPv6]:PORT, got %r" % text)
    return hp


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--upstream", action="append", type=address_arg, default=[], help="IP:PORT an upstream is on")
    ap.add_argument("--listen", action="append", type=address_arg, default=[], help="the proxy's listen IP:PORT")
    ap.add_argument("--control-socket", action="append", default=[])
    ap.add_argument("--notify-socket", action="append", default=[],
                    help="the service manager's notify socket (default: $NOTIFY_SOCKET when set)")
    ap.add_argument("--resolv-conf", default="/etc/resolv.conf")
    ap.add_argument("--quiet", action="store_true", help="print violations only")
    a = ap.parse_args(argv)
    notify = a.notify_socket or ([os.environ["NOTIFY_SOCKET"]] if os.environ.get("NOTIFY_SOCKET") else [])
    try:
        with open(a.trace, errors="replace") as f:
            calls = parse_trace(f)
    except OSError as e:
        print("egress-check: cannot read %s: %s" % (a.trace, e), file=sys.stderr)
        return 2
    ck = Checker(a.upstream, a.listen, a.control_socket, notify, resolv_conf_nameservers(a.resolv_conf))
    ok = ck.check(calls)
    if not a.quiet:
        print("egress-check: %d traced calls in %s" % (len(calls), a.trace), file=sys.stderr)
        for what in sorted(ck.counts):
            print("  %6d  %s" % (ck.counts[what], what), file=sys.stderr)
    for lineno, message, text in ck.violations:
        print("egress-check: VIOLATION (trace line %d): %s%s" % (lineno, message, ("\n    " + text) if text else ""),
              file=sys.stderr)
    print("egress-check: %s" % ("clean: no egress beyond the allowed list" if ok else
                                "FAILED: %d violation(s)" % len(ck.violations)), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
