"""The egress checker (egress_check.py) must be able to fail: a clean trace of the kind through-proxy.sh
records passes, and each kind of egress added to it, as text in a fixture (nothing is ever sent), fails.

    python3 -m unittest Tests/e2e/test_egress_check.py
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import egress_check  # noqa: E402

UPSTREAM = "127.0.0.1:35095"
LISTEN = "127.0.0.1:34643"
CONTROL = "/tmp/proxypool-e2e-abc/control.sock"

# Lines as strace 6.1 printed them for a real proxypoold in through-proxy.sh (pids and inodes as seen).
CLEAN = r'''16002 connect(8<UNIX-STREAM:[64921]>, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
16002 sendto(2</tmp/proxypool-e2e-abc/daemon.log>, ""..., 230, MSG_NOSIGNAL, NULL, 0) = -1 ENOTSOCK (Socket operation on non-socket)
16156 sendto(11<UNIX-STREAM:[65049->63352,"/tmp/proxypool-e2e-abc/control.sock"]>, ""..., 255, MSG_NOSIGNAL, NULL, 0) = 255
16004 connect(12<TCP:[65113]>, {sa_family=AF_INET, sin_port=htons(35095), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
16004 sendto(12<TCP:[127.0.0.1:49440->127.0.0.1:35095]>, ""..., 244, MSG_NOSIGNAL, NULL, 0) = 244
16004 sendto(11<TCP:[127.0.0.1:34643->127.0.0.1:50142]>, ""..., 833, MSG_NOSIGNAL, NULL, 0 <unfinished ...>
16005 sendmsg(9<UNIX-DGRAM:[70001]>, {msg_name={sa_family=AF_UNIX, sun_path="/run/systemd/journal/socket"}, msg_namelen=29, msg_iov=[{iov_base=""..., iov_len=40}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = 40
16004 <... sendto resumed>) = 833
16007 sendto(14<UNIX-STREAM:[70010->70011]>, ""..., 1, MSG_NOSIGNAL, NULL, 0) = 1
16002 +++ exited with 0 +++
'''


def violations(extra="", base=CLEAN, nameservers=("10.255.255.53",)):
    """The checker's violation messages for the clean trace plus extra lines ([] when clean)."""
    ck = egress_check.Checker([egress_check.host_port(UPSTREAM)], [egress_check.host_port(LISTEN)], [CONTROL], [],
                              set(nameservers))
    ck.check(egress_check.parse_trace((base + extra).splitlines(True)))
    return [message for _, message, _ in ck.violations]


def run_cli(text):
    """The command line's exit status on a trace file holding text."""
    with tempfile.NamedTemporaryFile("w", suffix=".trace", delete=False) as f:
        f.write(text)
    try:
        return egress_check.main([f.name, "--upstream", UPSTREAM, "--listen", LISTEN, "--control-socket", CONTROL,
                                  "--resolv-conf", os.devnull, "--quiet"])
    finally:
        os.unlink(f.name)


class EgressCheckTests(unittest.TestCase):
    def setUp(self):
        # Keep the checker's own report out of the unittest output.
        self._stderr, sys.stderr = sys.stderr, open(os.devnull, "w")

    def tearDown(self):
        sys.stderr.close()
        sys.stderr = self._stderr

    def assertRefused(self, extra, expected, **kw):
        found = violations(extra, **kw)
        self.assertTrue(any(expected in m for m in found), "wanted a violation with %r, got %r" % (expected, found))

    def test_clean_trace_passes(self):
        self.assertEqual(violations(), [])
        self.assertEqual(run_cli(CLEAN), 0)

    def test_command_line_fails_on_a_violation(self):
        self.assertEqual(run_cli(CLEAN + '16004 connect(13<TCP:[65200]>, {sa_family=AF_INET, sin_port=htons(443), '
                                 'sin_addr=inet_addr("10.1.2.3")}, 16) = -1 EINPROGRESS (Operation now in progress)\n'), 1)
        self.assertEqual(run_cli(""), 1)

    def test_connect_off_loopback_fails(self):
        self.assertRefused('16004 connect(13<TCP:[65200]>, {sa_family=AF_INET, sin_port=htons(443), '
                           'sin_addr=inet_addr("10.1.2.3")}, 16) = -1 EINPROGRESS (Operation now in progress)\n',
                           "connect to 10.1.2.3:443, which is not a configured upstream (off loopback)")

    def test_connect_off_loopback_ipv6_fails(self):
        self.assertRefused('16004 connect(13<TCPv6:[65201]>, {sa_family=AF_INET6, sin6_port=htons(443), '
                           'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), '
                           'sin6_scope_id=0}, 28) = -1 EINPROGRESS (Operation now in progress)\n',
                           "connect to 2001:db8::1:443, which is not a configured upstream (off loopback)")

    def test_failed_connect_still_counts(self):
        # An attempt is egress even when nothing answered.
        self.assertRefused('16004 connect(13<TCP:[65202]>, {sa_family=AF_INET, sin_port=htons(443), '
                           'sin_addr=inet_addr("10.1.2.3")}, 16) = -1 ENETUNREACH (Network is unreachable)\n',
                           "10.1.2.3:443")

    def test_unfinished_connect_still_counts(self):
        self.assertRefused('16004 connect(13<TCP:[65202]>, {sa_family=AF_INET, sin_port=htons(80), '
                           'sin_addr=inet_addr("192.0.2.7")}, 16 <unfinished ...>\n', "192.0.2.7:80")

    def test_other_loopback_port_fails(self):
        self.assertRefused('16004 connect(13<TCP:[65203]>, {sa_family=AF_INET, sin_port=htons(9999), '
                           'sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n',
                           "connect to 127.0.0.1:9999, which is not a configured upstream")

    def test_send_on_a_connection_to_another_port_fails(self):
        self.assertRefused('16004 sendto(12<TCP:[127.0.0.1:49441->127.0.0.1:8080]>, ""..., 244, MSG_NOSIGNAL, '
                           'NULL, 0) = 244\n', "neither an upstream nor a client of the listen address")

    def test_dns_sendto_fails(self):
        self.assertRefused('16004 sendto(15<UDP:[65300]>, ""..., 40, MSG_NOSIGNAL, {sa_family=AF_INET, '
                           'sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 40\n', "DNS: query to port 53")

    def test_dns_on_connected_udp_fails(self):
        # glibc's resolver connects its UDP socket, then sendmmsg's the A and AAAA queries.
        self.assertRefused('16004 sendmmsg(15<UDP:[127.0.0.1:40000->127.0.0.1:53]>, [{msg_hdr={msg_name=NULL, '
                           'msg_namelen=0, msg_iov=[{iov_base=""..., iov_len=40}], msg_iovlen=1, msg_controllen=0, '
                           'msg_flags=0}, msg_len=40}], 2, MSG_NOSIGNAL) = 2\n', "DNS: query to port 53")

    def test_dns_over_tcp_fails(self):
        self.assertRefused('16004 connect(15<TCP:[65302]>, {sa_family=AF_INET, sin_port=htons(53), '
                           'sin_addr=inet_addr("10.255.255.53")}, 16) = -1 EINPROGRESS (Operation now in progress)\n',
                           "DNS: query to port 53")

    def test_resolv_conf_nameserver_fails_on_any_port(self):
        self.assertRefused('16004 connect(15<UDP:[65301]>, {sa_family=AF_INET, sin_port=htons(5353), '
                           'sin_addr=inet_addr("10.255.255.53")}, 16) = 0\n', "a nameserver in /etc/resolv.conf")

    def test_unknown_unix_socket_fails(self):
        self.assertRefused('16004 connect(16<UNIX-STREAM:[65400]>, {sa_family=AF_UNIX, '
                           'sun_path="/run/dbus/system_bus_socket"}, 110) = 0\n',
                           "AF_UNIX /run/dbus/system_bus_socket, which is not in the allowed list")

    def test_abstract_unix_socket_fails(self):
        self.assertRefused('16004 connect(16<UNIX-STREAM:[65402]>, {sa_family=AF_UNIX, '
                           'sun_path=@"/tmp/.X11-unix/X0"}, 20) = 0\n', "AF_UNIX @/tmp/.X11-unix/X0")

    def test_resolved_socket_fails(self):
        self.assertRefused('16004 connect(16<UNIX-STREAM:[65401]>, {sa_family=AF_UNIX, '
                           'sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 110) = 0\n',
                           "DNS: systemd-resolved socket")

    def test_working_nscd_fails(self):
        self.assertRefused('16002 connect(8<UNIX-STREAM:[64930]>, {sa_family=AF_UNIX, '
                           'sun_path="/var/run/nscd/socket"}, 110) = 0\n', "nscd at /var/run/nscd/socket answered")

    def test_netlink_fails(self):
        self.assertRefused('16002 sendto(8<NETLINK:[64931]>, ""..., 20, 0, {sa_family=AF_NETLINK, nl_pid=0, '
                           'nl_groups=00000000}, 12) = 20\n', "address family AF_NETLINK")

    def test_send_on_unconnected_socket_fails(self):
        self.assertRefused('16004 sendto(12<TCP:[65113]>, ""..., 244, MSG_NOSIGNAL, NULL, 0) = 244\n',
                           "unconnected TCP socket with no address")

    def test_trace_without_upstream_connection_fails(self):
        lines = [ln for ln in CLEAN.splitlines(True) if "htons(35095)" not in ln]
        self.assertRefused("", "no connection to an upstream", base="".join(lines))

    def test_untraced_fd_decoration_fails(self):
        # A trace made without -yy cannot show where a send on a connected socket went.
        self.assertRefused('16004 sendto(12, ""..., 244, MSG_NOSIGNAL, NULL, 0) = 244\n', "no fd decoration")


if __name__ == "__main__":
    unittest.main()
