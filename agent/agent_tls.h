/* Tandem — MIT licence. OpenSSL client side for agents: context with CA, optional client cert. */
#ifndef TANDEM_AGENT_TLS_H
#define TANDEM_AGENT_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * A client SSL_CTX (TLS 1.2+) that verifies the server against ca_file (NULL: the system's
 * default paths) and, when cert_file is set, presents that chain with key_file (NULL: the
 * key is in cert_file). Returns the context (caller frees with SSL_CTX_free) or NULL with a
 * reason in err.
 */
SSL_CTX	*agent_tls_ctx_new(const char *ca_file, const char *cert_file, const char *key_file,
	    char *err, size_t errlen);

/*
 * A connection object for ctx that sends SNI and verifies the certificate against name (a
 * DNS name or an IP literal). NULL with a reason in err.
 */
SSL	*agent_tls_ssl_new(SSL_CTX *ctx, const char *name, char *err, size_t errlen);

/* The most recent OpenSSL error as text (static buffer; single-threaded use). */
const char *agent_tls_error(void);

#endif
