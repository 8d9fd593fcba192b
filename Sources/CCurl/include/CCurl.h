#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

/* libcurl is not linked but opened on first use (dlopen), so a daemon that makes no curl transfer never maps it
   and its ~30 libraries (~8 MiB of RSS). This header holds the wrappers; the table of functions and
   ccurl_load are in ccurl_loader.c beside this header. Every curl call goes through a ccurl_ wrapper below, and only
   after ccurl_load() has returned NULL. */
#define CCURL_FUNCTIONS(X) \
    X(global_init) X(version) \
    X(easy_init) X(easy_reset) X(easy_cleanup) X(easy_perform) X(easy_pause) X(easy_strerror) \
    X(easy_setopt) X(easy_getinfo) X(easy_send) X(easy_recv) X(slist_append) X(slist_free_all) \
    X(multi_init) X(multi_setopt) X(multi_add_handle) X(multi_remove_handle) X(multi_socket_action) X(multi_info_read)
/* Fields named without the curl_ prefix: curl_easy_setopt and curl_easy_getinfo are also macros in curl.h. */
struct ccurl_functions {
#define CCURL_FIELD(name) __typeof__(&curl_##name) name;
    CCURL_FUNCTIONS(CCURL_FIELD)
#undef CCURL_FIELD
};
extern struct ccurl_functions ccurl_fn;
/* Opens libcurl.so.4 and runs curl_global_init, once per process, from any thread. NULL once loaded, else
   why it could not be (dlerror's text); the answer never changes. */
const char *ccurl_load(void);
/* TLS records read whole: OpenSSL otherwise reads each record's 5-byte header and then its body, two recv
   calls per record. Set through CURLOPT_SSL_CTX_FUNCTION when curl's TLS library is OpenSSL; returns whether it
   was set. Bytes read ahead sit in OpenSSL, not in the socket: see ccurl_tls_has_pending. */
int ccurl_setopt_tls_read_ahead(CURL *h);
/* The OpenSSL session of a handle's connection, or NULL (another TLS library, no TLS, or no connection
   attached: a CONNECT_ONLY handle has one again only once curl_easy_send or curl_easy_recv has run). */
void *ccurl_tls_session(CURL *h);
/* Whether OpenSSL holds received bytes not yet read (SSL_has_pending); 0 for a NULL session. */
int ccurl_tls_has_pending(void *session);

static inline const char *ccurl_version(void) { return ccurl_fn.version(); }
static inline CURL *ccurl_easy_init(void) { return ccurl_fn.easy_init(); }
static inline void ccurl_easy_reset(CURL *h) { ccurl_fn.easy_reset(h); }
static inline void ccurl_easy_cleanup(CURL *h) { ccurl_fn.easy_cleanup(h); }
static inline CURLcode ccurl_easy_perform(CURL *h) { return ccurl_fn.easy_perform(h); }
static inline CURLcode ccurl_easy_send(CURL *h, const void *p, size_t n, size_t *sent) { return ccurl_fn.easy_send(h, p, n, sent); }
static inline CURLcode ccurl_easy_recv(CURL *h, void *p, size_t n, size_t *got) { return ccurl_fn.easy_recv(h, p, n, got); }
static inline CURLcode ccurl_easy_pause(CURL *h, int bitmask) { return ccurl_fn.easy_pause(h, bitmask); }
static inline const char *ccurl_easy_strerror(CURLcode c) { return ccurl_fn.easy_strerror(c); }
static inline struct curl_slist *ccurl_slist_append(struct curl_slist *l, const char *s) { return ccurl_fn.slist_append(l, s); }
static inline void ccurl_slist_free_all(struct curl_slist *l) { ccurl_fn.slist_free_all(l); }
static inline CURLM *ccurl_multi_init(void) { return ccurl_fn.multi_init(); }
static inline CURLMcode ccurl_multi_add_handle(CURLM *m, CURL *h) { return ccurl_fn.multi_add_handle(m, h); }
static inline CURLMcode ccurl_multi_remove_handle(CURLM *m, CURL *h) { return ccurl_fn.multi_remove_handle(m, h); }
static inline CURLMcode ccurl_multi_socket_action(CURLM *m, curl_socket_t s, int mask, int *running) {
    return ccurl_fn.multi_socket_action(m, s, mask, running);
}
static inline CURLMsg *ccurl_multi_info_read(CURLM *m, int *left) { return ccurl_fn.multi_info_read(m, left); }

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are C variadics: Swift cannot call them,
   so each argument type gets a typed wrapper. */
typedef size_t (*ccurl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*ccurl_socket_cb)(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp);
typedef int (*ccurl_timer_cb)(CURLM *multi, long timeout_ms, void *userp);
static inline CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return ccurl_fn.easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_str(CURL *h, CURLoption o, const char *v) { return ccurl_fn.easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, void *v) { return ccurl_fn.easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return ccurl_fn.easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_data_cb(CURL *h, CURLoption o, ccurl_data_cb v) { return ccurl_fn.easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return ccurl_fn.easy_setopt(h, o, v); }
static inline CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *v) { return ccurl_fn.easy_getinfo(h, i, v); }
static inline CURLcode ccurl_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return ccurl_fn.easy_getinfo(h, i, v); }
static inline CURLcode ccurl_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v) { return ccurl_fn.easy_getinfo(h, i, v); }
static inline CURLMcode ccurl_multi_socket_cb(CURLM *m, ccurl_socket_cb cb) { return ccurl_fn.multi_setopt(m, CURLMOPT_SOCKETFUNCTION, cb); }
static inline CURLMcode ccurl_multi_timer_cb(CURLM *m, ccurl_timer_cb cb) { return ccurl_fn.multi_setopt(m, CURLMOPT_TIMERFUNCTION, cb); }
static inline CURLMcode ccurl_multi_ptr(CURLM *m, CURLMoption o, void *p) { return ccurl_fn.multi_setopt(m, o, p); }
static inline CURLMcode ccurl_multi_long(CURLM *m, CURLMoption o, long v) { return ccurl_fn.multi_setopt(m, o, v); }
/* CURLMsg holds a union: read it here. Returns 1 and fills easy/result for a finished transfer. */
static inline int ccurl_msg_done(CURLMsg *m, CURL **easy, CURLcode *result) {
    if (m->msg != CURLMSG_DONE) return 0;
    *easy = m->easy_handle; *result = m->data.result; return 1;
}
static const curl_socket_t CCURL_SOCKET_TIMEOUT = CURL_SOCKET_TIMEOUT;
static const int CCURL_POLL_IN = CURL_POLL_IN, CCURL_POLL_OUT = CURL_POLL_OUT, CCURL_POLL_INOUT = CURL_POLL_INOUT,
                 CCURL_POLL_REMOVE = CURL_POLL_REMOVE;
static const int CCURL_CSELECT_IN = CURL_CSELECT_IN, CCURL_CSELECT_OUT = CURL_CSELECT_OUT, CCURL_CSELECT_ERR = CURL_CSELECT_ERR;
static const int CCURL_PAUSE_RECV = CURLPAUSE_RECV, CCURL_PAUSE_CONT = CURLPAUSE_CONT;

/* Fetching a URL a client named (an image to inline) must not reach this machine or its private networks
   (SSRF). The check runs on the address curl is about to connect to, after DNS, so a name that resolves
   to 127.0.0.1 or a rebinding DNS server is caught too. */
static inline int ccurl_ipv4_is_public(uint32_t a) {
    uint32_t b0 = a >> 24, b1 = (a >> 16) & 255, b2 = (a >> 8) & 255;
    if (b0 == 0 || b0 == 10 || b0 == 127 || b0 >= 224) return 0;          /* this net, private, loopback, multicast, reserved */
    if (b0 == 100 && (b1 & 0xC0) == 64) return 0;                          /* 100.64/10 carrier NAT */
    if (b0 == 169 && b1 == 254) return 0;                                  /* link-local, cloud metadata */
    if (b0 == 172 && (b1 & 0xF0) == 16) return 0;                          /* 172.16/12 */
    if (b0 == 192 && b1 == 168) return 0;                                  /* 192.168/16 */
    if (b0 == 192 && b1 == 0 && (b2 == 0 || b2 == 2)) return 0;            /* IETF, TEST-NET-1 */
    if (b0 == 198 && (b1 & 0xFE) == 18) return 0;                          /* benchmarking */
    if (b0 == 198 && b1 == 51 && b2 == 100) return 0;                      /* TEST-NET-2 */
    if (b0 == 203 && b1 == 0 && b2 == 113) return 0;                       /* TEST-NET-3 */
    return 1;
}
static inline int ccurl_address_is_public(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET) return ccurl_ipv4_is_public(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family != AF_INET6) return 0;
    const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return ccurl_ipv4_is_public(((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) | ((uint32_t)b[14] << 8) | b[15]);
    if ((b[0] & 0xFE) == 0xFC) return 0;                                   /* fc00::/7 unique local */
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return 0;                   /* fe80::/10 link-local */
    if (b[0] == 0xFF) return 0;                                            /* multicast */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return 0;   /* documentation */
    int zero = 1;
    for (int i = 0; i < 15; i++) if (b[i]) zero = 0;
    if (zero) return 0;                                                    /* :: and ::1 */
    return 1;
}
/* For tests: the same check on a textual address. Returns -1 when it does not parse. */
static inline int ccurl_text_address_is_public(const char *text) {
    struct sockaddr_in v4; struct sockaddr_in6 v6;
    memset(&v4, 0, sizeof v4); memset(&v6, 0, sizeof v6);
    if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) { v4.sin_family = AF_INET; return ccurl_address_is_public((struct sockaddr *)&v4); }
    if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1) { v6.sin6_family = AF_INET6; return ccurl_address_is_public((struct sockaddr *)&v6); }
    return -1;
}
static inline curl_socket_t ccurl_public_only_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)purpose;
    if (!ccurl_address_is_public(&address->addr)) { if (clientp) *(int *)clientp = 1; return CURL_SOCKET_BAD; }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}
static inline CURLcode ccurl_setopt_public_only(CURL *h, int *refused) {
    CURLcode r = ccurl_fn.easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, ccurl_public_only_opensocket);
    if (r == CURLE_OK) r = ccurl_fn.easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)refused);
    return r;
}
#endif
