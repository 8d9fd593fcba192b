/* libcrypto opened on first use: see include/CCrypto.h. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "CCrypto.h"

#define CCRYPTO_FUNCTIONS(X) \
    X(BIO_new_mem_buf) X(BIO_free) X(PEM_read_bio_PrivateKey) X(EVP_PKEY_free) X(EVP_PKEY_get_base_id) \
    X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_DigestSignInit) X(EVP_DigestSign) X(EVP_sha256) X(ERR_clear_error)

static struct {
#define CCRYPTO_FIELD(name) __typeof__(&name) name;
    CCRYPTO_FUNCTIONS(CCRYPTO_FIELD)
#undef CCRYPTO_FIELD
} fn;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure;
static char failure_text[512];

static void load(void) {
    void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    void *sym = lib;
    if (lib) {
#define CCRYPTO_RESOLVE(name) if (sym) { sym = dlsym(lib, #name); fn.name = (__typeof__(fn.name))sym; }
        CCRYPTO_FUNCTIONS(CCRYPTO_RESOLVE)
#undef CCRYPTO_RESOLVE
    }
    if (!sym) {
        const char *why = dlerror();
        snprintf(failure_text, sizeof failure_text, "%s", why ? why : "libcrypto.so.3: unknown error");
        failure = failure_text;
        if (lib) dlclose(lib);
    }
}

const char *ccrypto_load(void) {
    pthread_once(&once, load);
    return failure;
}

const char *ccrypto_rs256_sign(const char *pem, size_t pem_len, const unsigned char *msg, size_t msg_len,
                               unsigned char *sig, size_t sig_cap, size_t *sig_len) {
    if (pem_len > 64 * 1024) return "the private key is longer than 64 KiB";
    BIO *bio = fn.BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio) return "out of memory";
    /* No passphrase callback: a key file's key is never encrypted, and nothing may prompt. */
    EVP_PKEY *key = fn.PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    fn.BIO_free(bio);
    const char *why = NULL;
    EVP_MD_CTX *ctx = NULL;
    size_t needed = 0;
    if (!key) { why = "the private_key is not a PEM private key OpenSSL can read"; goto out; }
    if (fn.EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) { why = "the private_key is not an RSA key (RS256 needs one)"; goto out; }
    if (!(ctx = fn.EVP_MD_CTX_new())) { why = "out of memory"; goto out; }
    if (fn.EVP_DigestSignInit(ctx, NULL, fn.EVP_sha256(), NULL, key) != 1) { why = "the key cannot sign with SHA-256"; goto out; }
    if (fn.EVP_DigestSign(ctx, NULL, &needed, msg, msg_len) != 1 || needed == 0 || needed > sig_cap) {
        why = "the signature does not fit"; goto out;
    }
    *sig_len = sig_cap;
    if (fn.EVP_DigestSign(ctx, sig, sig_len, msg, msg_len) != 1) why = "signing failed";
out:
    if (why) fn.ERR_clear_error();   /* OpenSSL's error queue is per thread: leave it empty */
    if (ctx) fn.EVP_MD_CTX_free(ctx);
    if (key) fn.EVP_PKEY_free(key);
    return why;
}
