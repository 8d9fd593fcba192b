#define _GNU_SOURCE
#include <sys/socket.h>
#include <stdio.h>
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
