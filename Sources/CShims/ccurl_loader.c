/* libcurl opened on first use: see Sources/CCurl/shim.h. Here and not in that header because the table and
   the once-flag must exist once per process (a static in a header gets one copy per including object). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include "../CCurl/shim.h"

struct ccurl_functions ccurl_fn;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure;
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
    if (ccurl_fn.global_init(CURL_GLOBAL_ALL) != CURLE_OK) failure = "curl_global_init failed";
}

const char *ccurl_load(void) {
    pthread_once(&once, load);
    return failure;
}
