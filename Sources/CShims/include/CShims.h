#ifndef CSHIMS_H
#define CSHIMS_H
#include <stdint.h>
/* Calls and structs that Glibc exposes only under _GNU_SOURCE, which Swift's Glibc module is built without. */

/* SO_PEERCRED: the uid, gid and pid of the process at the other end of a Unix socket. 0 or -1 (errno set). */
int cshims_peer_credentials(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid);
/* accept4 with SOCK_CLOEXEC (and SOCK_NONBLOCK when nonblocking != 0). */
int cshims_accept(int fd, int nonblocking);
/* Line-buffer stdout: touching Glibc's `stdout` from Swift 6 is a concurrency error. */
void cshims_line_buffer_stdout(void);

/* epoll_event is a packed struct with a union: Swift only sees it through these. */
int cshims_epoll_create(void);
int cshims_epoll_ctl(int ep, int op, int fd, uint32_t events, uint64_t data);
/* Waits; fills datas[i] / events[i]; returns the count or -1. */
int cshims_epoll_wait(int ep, uint64_t *datas, uint32_t *events, int max, int timeout_ms);
int cshims_eventfd(void);
/* Set O_NONBLOCK, TCP_NODELAY. */
int cshims_set_nonblocking(int fd);
void cshims_set_nodelay(int fd);
extern const uint32_t CSHIMS_EPOLLIN, CSHIMS_EPOLLOUT, CSHIMS_EPOLLRDHUP, CSHIMS_EPOLLHUP, CSHIMS_EPOLLERR;
extern const int CSHIMS_EPOLL_CTL_ADD, CSHIMS_EPOLL_CTL_MOD, CSHIMS_EPOLL_CTL_DEL;

/* mallopt lives in <malloc.h>, which Swift's Glibc module does not include. */
void cshims_limit_malloc_arenas(int n);

/* A non-blocking TCP socket (TCP_NODELAY, close-on-exec) connecting to a literal IPv4 or IPv6 address.
   Returns the fd, with *pending = 1 while the connect is under way (wait for writable, then
   cshims_socket_error); or -errno (-EINVAL when the address does not parse). */
int cshims_tcp_connect(const char *address, int port, int *pending);
/* SO_ERROR of a socket: 0, or the errno of its failed connect. */
int cshims_socket_error(int fd);

/* Send count datagrams in one sendmmsg call: datagram i is base[starts[i] ..< starts[i + 1]] (starts has
   count + 1 entries). Returns how many were sent (a prefix), or -errno when the first one failed. */
int cshims_send_datagrams(int fd, const uint8_t *base, const int64_t *starts, int count);
/* Close every descriptor from lowfd up in a child started with these file actions (glibc's
   posix_spawn_file_actions_addclosefrom_np, declared only under _GNU_SOURCE). A process that starts another
   program hands on nothing it did not mean to. actions: a posix_spawn_file_actions_t (void here: spawn.h in this
   header would give the module its own uid_t). Returns 0 or an errno value. */
int cshims_spawn_close_from(void *actions, int lowfd);
#endif
