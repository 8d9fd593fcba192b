#ifndef CSHIMS_H
#define CSHIMS_H
#include <sys/types.h>
#include <stdint.h>
/* Calls and structs that Glibc exposes only under _GNU_SOURCE, which Swift's Glibc module is built without. */

/* SO_PEERCRED: the uid, gid and pid of the process at the other end of a Unix socket. 0 or -1 (errno set). */
int cshims_peer_credentials(int fd, uint32_t *uid, uint32_t *gid, int32_t *pid);
/* accept4 with SOCK_CLOEXEC (and SOCK_NONBLOCK when nonblocking != 0). */
int cshims_accept(int fd, int nonblocking);
/* Line-buffer stdout: touching Glibc's `stdout` from Swift 6 is a concurrency error. */
void cshims_line_buffer_stdout(void);
#endif
