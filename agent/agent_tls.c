/* Tandem — MIT licence. OpenSSL client contexts for agents (server verification, mutual TLS). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "agent/agent_tls.h"

const char *
agent_tls_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "no OpenSSL error queued";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

SSL_CTX *
agent_tls_ctx_new(const char *ca_file, const char *cert_file, const char *key_file, char *err,
    size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new: %s", agent_tls_error());
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "TLS minimum version: %s", agent_tls_error());
		goto fail;
	}
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			snprintf(err, errlen, "CA file %s: %s", ca_file, agent_tls_error());
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "default CA paths: %s", agent_tls_error());
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert_file != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
			snprintf(err, errlen, "certificate %s: %s", cert_file, agent_tls_error());
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key_file ? key_file : cert_file,
		    SSL_FILETYPE_PEM) != 1) {
			snprintf(err, errlen, "key %s: %s", key_file ? key_file : cert_file,
			    agent_tls_error());
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(err, errlen, "key does not match certificate: %s",
			    agent_tls_error());
			goto fail;
		}
	}
	return ctx;
 fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *
agent_tls_ssl_new(SSL_CTX *ctx, const char *name, char *err, size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;
	SSL *ssl;
	int is_ip;

	if ((ssl = SSL_new(ctx)) == NULL) {
		snprintf(err, errlen, "SSL_new: %s", agent_tls_error());
		return NULL;
	}
	is_ip = inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1;
	if (is_ip) {
		/* Certificates name IP addresses in iPAddress SANs, and SNI never carries one. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1) {
			snprintf(err, errlen, "verify IP %s: %s", name, agent_tls_error());
			goto fail;
		}
	} else {
		if (SSL_set_tlsext_host_name(ssl, name) != 1 || SSL_set1_host(ssl, name) != 1) {
			snprintf(err, errlen, "verify host %s: %s", name, agent_tls_error());
			goto fail;
		}
	}
	return ssl;
 fail:
	SSL_free(ssl);
	return NULL;
}
