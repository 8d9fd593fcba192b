// OpenSSL's libcrypto (libssl-dev): PEM private keys and RSA-SHA256 signatures, for Vertex AI
// service-account JWT assertions (RFC 7515 RS256).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
