/* libcurl opened on first use: see include/CCurl.h. Here and not in that header because the table and
   the once-flag must exist once per process (a static in a header gets one copy per including object). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "CCurl.h"

struct ccurl_functions ccurl_fn;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure;
/* OpenSSL, reached through libcurl's own dependency; NULL when curl was built with another TLS library. */
static long (*ssl_ctx_ctrl)(void *ctx, int cmd, long larg, void *parg);
static int (*ssl_has_pending)(const void *ssl);
static char failure_text[512];

static void load(void) {
    /* RTLD_LOCAL: curl's symbols (and its TLS libraries') stay out of the global namespace. */
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    void *sym = lib;
    if (lib) {
#define CCURL_RESOLVE(name) \
        if (sym) { sym = dlsym(lib, "curl_" #name); ccurl_fn.name = (__typeof__(ccurl_fn.name))sym; }
        CCURL_FUNCTIONS(CCURL_RESOLVE)
#undef CCURL_RESOLVE
    }
    if (!sym) {
        const char *why = dlerror();
        snprintf(failure_text, sizeof failure_text, "%s", why ? why : "libcurl.so.4: unknown error");
        failure = failure_text;
        if (lib) dlclose(lib);
        return;
    }
    if (ccurl_fn.global_init(CURL_GLOBAL_ALL) != CURLE_OK) { failure = "curl_global_init failed"; return; }
    /* Only when curl's TLS library is OpenSSL (its version text names it): the context curl hands to
       CURLOPT_SSL_CTX_FUNCTION is then an SSL_CTX, and CURLINFO_TLS_SSL_PTR an SSL. */
    if (strstr(ccurl_fn.version(), "OpenSSL/")) {
        ssl_ctx_ctrl = (__typeof__(ssl_ctx_ctrl))dlsym(lib, "SSL_CTX_ctrl");
        ssl_has_pending = (__typeof__(ssl_has_pending))dlsym(lib, "SSL_has_pending");
        if (!ssl_ctx_ctrl || !ssl_has_pending) ssl_ctx_ctrl = NULL, ssl_has_pending = NULL;
    }
}

/* SSL_CTRL_SET_READ_AHEAD from openssl/ssl.h (its headers are not a build dependency). */
#define CCURL_SSL_CTRL_SET_READ_AHEAD 41

static CURLcode read_ahead(CURL *easy, void *ssl_ctx, void *userp) {
    (void)easy; (void)userp;
    ssl_ctx_ctrl(ssl_ctx, CCURL_SSL_CTRL_SET_READ_AHEAD, 1, NULL);
    return CURLE_OK;
}

int ccurl_setopt_tls_read_ahead(CURL *h) {
    if (!ssl_ctx_ctrl) return 0;
    return ccurl_fn.easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, read_ahead) == CURLE_OK;
}

void *ccurl_tls_session(CURL *h) {
    struct curl_tlssessioninfo *info = NULL;
    if (!ssl_has_pending || ccurl_fn.easy_getinfo(h, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info) return NULL;
    return info->backend == CURLSSLBACKEND_OPENSSL ? info->internals : NULL;
}

int ccurl_tls_has_pending(void *session) { return session && ssl_has_pending ? ssl_has_pending(session) : 0; }

const char *ccurl_load(void) {
    pthread_once(&once, load);
    return failure;
}
