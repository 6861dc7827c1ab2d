/* Tandem — MIT licence. OpenSSL 3 context setup; errors come back as text, never as a crash. */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/tls.h"

static SSL_CTX *
tls_fail(SSL_CTX *ctx, const char *what, char *err, size_t errlen)
{
	char buf[160];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, buf);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, const char *client_ca, char *err,
    size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return tls_fail(NULL, "SSL_CTX_new", err, errlen);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return tls_fail(ctx, cert, err, errlen);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return tls_fail(ctx, key, err, errlen);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(ctx, "certificate and key do not match", err, errlen);
	if (client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1)
			return tls_fail(ctx, client_ca, err, errlen);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
}

SSL_CTX *
tls_client_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return tls_fail(NULL, "SSL_CTX_new", err, errlen);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
			return tls_fail(ctx, ca, err, errlen);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (cert != NULL && key != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
			return tls_fail(ctx, cert, err, errlen);
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
			return tls_fail(ctx, key, err, errlen);
	}
	return ctx;
}
