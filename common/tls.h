/* Tandem — MIT licence. OpenSSL contexts for our servers and clients. */
#ifndef TANDEM_TLS_H
#define TANDEM_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * A TLS 1.2+ server context with the certificate chain and key from PEM files. With
 * client_ca set, clients must present a certificate signed by it (mutual TLS).
 * NULL with a reason in err.
 */
SSL_CTX	*tls_server_ctx(const char *cert, const char *key, const char *client_ca,
	    char *err, size_t errlen);
/*
 * A TLS 1.2+ client context. ca (may be NULL: no verification) verifies the server; cert and
 * key (both or neither) are presented for mutual TLS. NULL with a reason in err.
 */
SSL_CTX	*tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
	    size_t errlen);

#endif
