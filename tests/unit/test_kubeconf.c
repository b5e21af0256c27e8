/*
 * test_kubeconf: Kubernetes credentials from kubeconfig files and from a
 * service-account directory (runner/kubeconf): the context chosen, files
 * relative to the kubeconfig, base64 -data, tokens trimmed and re-read,
 * and the refusals (plain http, skipped TLS verification, exec plugins,
 * no credentials, a missing context) with messages that name the file and
 * never the secret.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/b64.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "runner/kubeconf.h"
#include "testutil.h"

#define CA	"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static char *
kubeconfig(const char *clusters, const char *users, const char *extra)
{
	char *text = xasprintf(
	    "apiVersion: v1\nkind: Config\npreferences: {}\n"
	    "clusters:\n%s"
	    "users:\n%s"
	    "contexts:\n"
	    "- name: a\n  context: {cluster: ca, user: ua, namespace: team}\n"
	    "- name: b\n  context: {cluster: cb, user: ub}\n"
	    "current-context: a\n%s", clusters, users, extra);
	char *p = tu_write_tmp("kubeconfig", text);

	free(text);
	return p;
}

static int
load(const char *path, const char *context, struct kube_creds *c, char *err,
    size_t errlen)
{
	struct ebb_kube k = { .kubeconfig = (char *)path,
	    .context = (char *)context };

	return kube_creds_load(&k, c, err, errlen);
}

static void
test_token_and_ca_file(void **state)
{
	char *ca = tu_write_tmp("ca.crt", CA), err[256];
	char *p = kubeconfig(
	    "- name: ca\n  cluster: {server: 'https://10.0.0.1:6443/', "
	    "certificate-authority: ca.crt}\n"
	    "- name: cb\n  cluster: {server: 'https://b:443'}\n",
	    "- name: ua\n  user: {token: '  sekrit\n'}\n"
	    "- name: ub\n  user: {tokenFile: tok}\n", "");
	struct kube_creds c;

	(void)state;
	assert_int_equal(load(p, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.ca_pem, CA);
	assert_string_equal(c.token, "sekrit");
	assert_string_equal(c.namespace, "team");
	assert_null(c.cert_pem);
	kube_creds_clear(&c);
	/* context b: a token file relative to the kubeconfig, re-read */
	free(tu_write_tmp("tok", "first\n"));
	assert_int_equal(load(p, "b", &c, err, sizeof(err)), 0);
	assert_string_equal(c.token, "first");
	assert_null(c.namespace);
	assert_null(c.ca_pem);
	free(tu_write_tmp("tok", "second"));
	assert_int_equal(kube_creds_refresh(&c, err, sizeof(err)), 0);
	assert_string_equal(c.token, "second");
	free(tu_write_tmp("tok", "two\nlines\n"));
	assert_int_equal(kube_creds_refresh(&c, err, sizeof(err)), -1);
	assert_string_equal(c.token, "second");	/* kept */
	kube_creds_clear(&c);
	free(ca);
	free(p);
}

static void
test_client_cert_data(void **state)
{
	char *cert = b64_encode("CERT\n", 5), *key = b64_encode("KEY\n", 4);
	char *users = xasprintf("- name: ua\n  user:\n"
	    "    client-certificate-data: %s\n    client-key-data: %s\n"
	    "- name: ub\n  user: {client-certificate-data: %s}\n", cert, key,
	    cert);
	char *cas = b64_encode(CA, strlen(CA));
	char *clusters = xasprintf("- name: ca\n  cluster: {server: "
	    "'https://h', certificate-authority-data: %s}\n- name: cb\n"
	    "  cluster: {server: 'https://h'}\n", cas);
	char *p = kubeconfig(clusters, users, ""), err[256];
	struct kube_creds c;

	(void)state;
	assert_int_equal(load(p, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.cert_pem, "CERT\n");
	assert_string_equal(c.key_pem, "KEY\n");
	assert_string_equal(c.ca_pem, CA);
	assert_null(c.token);
	kube_creds_clear(&c);
	assert_int_equal(load(p, "b", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs its key"));
	free(p);
	free(clusters);
	free(cas);
	free(users);
	free(key);
	free(cert);
}

static void
expect_refused(const char *clusters, const char *users, const char *extra,
    const char *context, const char *want)
{
	char *p = kubeconfig(clusters, users, extra), err[256];
	struct kube_creds c;

	assert_int_equal(load(p, context, &c, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL || strstr(err, "kubeconfig") == NULL)
		fail_msg("error '%s' lacks '%s' or the file name", err, want);
	if (strstr(err, "sekrit") != NULL)
		fail_msg("the token is in the error: %s", err);
	free(p);
}

static void
test_refusals(void **state)
{
	const char *ok_cl = "- name: ca\n  cluster: {server: 'https://h'}\n";
	const char *ok_us = "- name: ua\n  user: {token: sekrit}\n";

	(void)state;
	expect_refused("- name: ca\n  cluster: {server: 'http://h'}\n", ok_us,
	    "", NULL, "https://");
	expect_refused("- name: ca\n  cluster: {server: 'https://h', "
	    "insecure-skip-tls-verify: true}\n", ok_us, "", NULL,
	    "insecure-skip-tls-verify is not supported");
	expect_refused(ok_cl, "- name: ua\n  user:\n    exec: {command: "
	    "aws}\n", "", NULL, "exec and auth-provider");
	expect_refused(ok_cl, "- name: ua\n  user: {username: x}\n", "", NULL,
	    "no token, tokenFile or client certificate");
	expect_refused(ok_cl, ok_us, "", "nosuch", "no context 'nosuch'");
	expect_refused(ok_cl, "- name: ua\n  user: {token: 'a\nb'}\n", "",
	    NULL, "bad token");
	expect_refused("- name: ca\n  cluster: {server: 'https://h', "
	    "certificate-authority: missing.crt}\n", ok_us, "", NULL,
	    "cannot read");
	expect_refused("- name: ca\n  cluster: {server: 'https://h', "
	    "certificate-authority-data: '!!!'}\n", ok_us, "", NULL,
	    "not base64");
}

static void
test_in_cluster(void **state)
{
	const char *d = tu_tmpdir();
	char *sa = xasprintf("%s/sa", d), *f, err[256];
	struct ebb_kube k = { .in_cluster = 1, .sa_dir = sa };
	struct kube_creds c;

	(void)state;
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_creds_load(&k, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
	free(tu_write_tmp("sa", ""));	/* a file where the dir goes */
	f = xasprintf("rm -f %s/sa && mkdir %s/sa", d, d);
	assert_int_equal(system(f), 0);
	free(f);
	free(tu_write_tmp("sa/ca.crt", CA));
	free(tu_write_tmp("sa/token", "satoken\n"));
	free(tu_write_tmp("sa/namespace", "batch\n"));
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kube_creds_load(&k, &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	assert_string_equal(c.token, "satoken");
	assert_string_equal(c.namespace, "batch");
	assert_string_equal(c.ca_pem, CA);
	kube_creds_clear(&c);
	setenv("KUBERNETES_SERVICE_HOST", "evil/x@y", 1);
	assert_int_equal(kube_creds_load(&k, &c, err, sizeof(err)), -1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	free(sa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_and_ca_file),
		cmocka_unit_test(test_client_cert_data),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_in_cluster),
	};

	return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
