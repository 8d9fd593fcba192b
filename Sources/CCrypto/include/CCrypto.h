#ifndef CCRYPTO_H
#define CCRYPTO_H
/* OpenSSL's libcrypto, opened on first use (dlopen) like libcurl (CCurl), so a daemon that never signs a
   Vertex AI service-account assertion never maps it (about 1.4 MB of resident memory). Its headers
   (libssl-dev) are a build dependency; libcrypto.so.3 (libssl3) a run-time one. */
#include <stddef.h>

/* Opens libcrypto.so.3 and resolves what ccrypto_rs256_sign needs, once per process, from any thread.
   NULL once loaded, else why not (a static string). */
const char *ccrypto_load(void);

/* RSASSA-PKCS1-v1_5 with SHA-256 of msg with the PEM private key pem (not NUL-terminated): the signature in
   sig (room for sig_cap bytes), its length in *sig_len. 0 on success, else a static message. Call only after
   ccrypto_load() returned NULL. Blocking CPU work: never on the event loop. */
const char *ccrypto_rs256_sign(const char *pem, size_t pem_len, const unsigned char *msg, size_t msg_len,
                               unsigned char *sig, size_t sig_cap, size_t *sig_len);
#endif
