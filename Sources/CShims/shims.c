#define _GNU_SOURCE
#include <sys/socket.h>
#include <stdio.h>
#include <spawn.h>
#include "CShims.h"

int cshims_peer_credentials(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *uid = cred.uid; *gid = cred.gid; *pid = cred.pid;
    return 0;
}

int cshims_accept(int fd, int nonblocking) {
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0));
}

void cshims_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

const uint32_t CSHIMS_EPOLLIN = EPOLLIN, CSHIMS_EPOLLOUT = EPOLLOUT, CSHIMS_EPOLLRDHUP = EPOLLRDHUP,
               CSHIMS_EPOLLHUP = EPOLLHUP, CSHIMS_EPOLLERR = EPOLLERR;
const int CSHIMS_EPOLL_CTL_ADD = EPOLL_CTL_ADD, CSHIMS_EPOLL_CTL_MOD = EPOLL_CTL_MOD, CSHIMS_EPOLL_CTL_DEL = EPOLL_CTL_DEL;

int cshims_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cshims_epoll_ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = { .events = events, .data = { .u64 = data } };
    return epoll_ctl(ep, op, fd, &ev);
}

int cshims_epoll_wait(int ep, uint64_t *datas, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(ep, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) { datas[i] = evs[i].data.u64; events[i] = evs[i].events; }
    return n;
}

int cshims_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int cshims_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void cshims_set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

#include <malloc.h>
void cshims_limit_malloc_arenas(int n) { mallopt(M_ARENA_MAX, n); }

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
int cshims_tcp_connect(const char *address, int port, int *pending) {
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET; v4->sin_port = htons((uint16_t)port); len = sizeof *v4;
    } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6; v6->sin6_port = htons((uint16_t)port); len = sizeof *v6;
    } else {
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    *pending = 0;
    if (connect(fd, (struct sockaddr *)&ss, len) == 0) return fd;
    if (errno == EINPROGRESS) { *pending = 1; return fd; }
    int e = errno;
    close(fd);
    return -e;
}

int cshims_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

int cshims_send_datagrams(int fd, const uint8_t *base, const int64_t *starts, int count) {
    enum { batch = 64 };
    struct mmsghdr msgs[batch];
    struct iovec iov[batch];
    int sent = 0;
    while (sent < count) {
        int n = count - sent < batch ? count - sent : batch;
        memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)n);
        for (int i = 0; i < n; i++) {
            iov[i].iov_base = (void *)(base + starts[sent + i]);
            iov[i].iov_len = (size_t)(starts[sent + i + 1] - starts[sent + i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r = sendmmsg(fd, msgs, (unsigned)n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            return sent > 0 ? sent : -errno;
        }
        sent += r;
        if (r < n) return sent;
    }
    return sent;
}

int cshims_spawn_close_from(void *actions, int lowfd) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, lowfd);
}
