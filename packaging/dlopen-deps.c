/* Not shipped: a throwaway program that links, by name, every symbol proxypoold resolves with dlsym from the
   libraries it opens at run time (libcurl.so.4 in Sources/CCurl, libcrypto.so.3 in Sources/CCrypto, and libssl's
   SSL_CTX_ctrl / SSL_has_pending reached through curl). build-deb.sh runs dpkg-shlibdeps on it beside the real
   binaries, so the dlopen'ed libraries' Depends (libcurl4, libssl3, with their minimum versions from the
   libraries' symbols files) are computed like the linked ones instead of written by hand. The lists come from
   the loaders themselves (their X-macros), so a symbol added there is counted here. */
#include "../Sources/CCurl/include/CCurl.h"            /* CCURL_FUNCTIONS */
#include "../Sources/CCrypto/ccrypto_loader.c"         /* CCRYPTO_FUNCTIONS lives in the loader */

long SSL_CTX_ctrl(void *ctx, int cmd, long larg, void *parg);
int SSL_has_pending(const void *ssl);

#define CURL_SYMBOL(name) (void *)&curl_##name,
#define PLAIN_SYMBOL(name) (void *)&name,
void *const dlopen_deps_used[] = {
    CCURL_FUNCTIONS(CURL_SYMBOL)
    CCRYPTO_FUNCTIONS(PLAIN_SYMBOL)
    (void *)&SSL_CTX_ctrl, (void *)&SSL_has_pending,
};

int main(void) { return dlopen_deps_used[0] == 0; }
