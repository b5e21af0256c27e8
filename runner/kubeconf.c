/*
 * kubeconf: Kubernetes API credentials from a kubeconfig or the pod's
 * service account (see kubeconf.h). The kubeconfig is read with yamltree
 * and walked by hand: kubeconfigs carry keys of many tools (preferences,
 * extensions), which a strict key table would refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/b64.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "config/yamltree.h"
#include "runner/kubeconf.h"

#define FILE_MAX	(1 << 20)	/* bytes of a token, key or CA file */

static void
wipe_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

void
kube_creds_clear(struct kube_creds *c)
{
	free(c->server);
	free(c->ca_pem);
	wipe_free(c->token);
	free(c->token_file);
	free(c->cert_pem);
	wipe_free(c->key_pem);
	free(c->namespace);
	memset(c, 0, sizeof(*c));
}

/* A whole small file as a string; NULL with err set ("what: path: ..."). */
static char *
slurp(const char *path, const char *what, char *err, size_t errlen)
{
	char *buf = NULL, e[256];
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: cannot read %s: %s", what, path,
		    strerror(errno));
		return NULL;
	}
	if (fs_read_fd(fd, FILE_MAX, &buf, &len, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "%s: %s: %s", what, path, e);
		buf = NULL;
	} else if (strlen(buf) != len) {
		snprintf(err, errlen, "%s: %s holds a NUL byte", what, path);
		wipe_free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

/*
 * A token as sent in a header: surrounding white space cut; NULL if none
 * is left or it holds white space or control characters (it goes into an
 * Authorization header as it is).
 */
static char *
clean_token(char *t)
{
	size_t n, i;
	char *s = t + strspn(t, " \t\r\n");

	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		n--;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			break;
	if (n == 0 || i < n || n > KUBE_TOKEN_MAX) {
		wipe_free(t);
		return NULL;
	}
	memmove(t, s, n);
	t[n] = '\0';
	return t;
}

static const char *
scalar(const struct yt_node *map, const char *key)
{
	const struct yt_node *n = yt_get(map, key);

	return n != NULL && n->kind == YT_SCALAR && !yt_is_null(n) ?
	    n->text : NULL;
}

/* The entry of list `list` (clusters, users, contexts) named name. */
static const struct yt_node *
named(const struct yt_node *root, const char *list, const char *name)
{
	const struct yt_node *l = yt_get(root, list);

	if (l == NULL || l->kind != YT_SEQ || name == NULL)
		return NULL;
	for (size_t i = 0; i < l->nkids; i++) {
		const char *n = scalar(l->kids[i], "name");

		if (n != NULL && strcmp(n, name) == 0)
			return l->kids[i];
	}
	return NULL;
}

/*
 * PEM from key (a file, relative to dir) or key-data (base64); *out NULL
 * if neither is set. -1 with err set.
 */
static int
pem(const struct yt_node *m, const char *key, const char *dir,
    const char *file, char **out, char *err, size_t errlen)
{
	char dkey[64], *path, e[400];
	const char *f = scalar(m, key), *data;
	unsigned char *raw;
	size_t len;

	*out = NULL;
	snprintf(dkey, sizeof(dkey), "%s-data", key);
	if ((data = scalar(m, dkey)) != NULL) {
		if ((raw = b64_decode(data, &len)) == NULL ||
		    memchr(raw, '\0', len) != NULL) {
			snprintf(err, errlen, "%s: %s is not base64 PEM", file,
			    dkey);
			if (raw != NULL)
				explicit_bzero(raw, len);
			free(raw);
			return -1;
		}
		*out = xmalloc(len + 1);
		memcpy(*out, raw, len);
		(*out)[len] = '\0';
		explicit_bzero(raw, len);
		free(raw);
		return 0;
	}
	if (f == NULL)
		return 0;
	path = f[0] == '/' ? xstrdup(f) : xasprintf("%s/%s", dir, f);
	if ((*out = slurp(path, key, e, sizeof(e))) == NULL)
		snprintf(err, errlen, "%s: %s", file, e);
	free(path);
	return *out == NULL ? -1 : 0;
}

static int
from_kubeconfig(const struct ebb_kube *k, struct kube_creds *c, char *err,
    size_t errlen)
{
	struct yt_doc *d = yt_load(k->kubeconfig);
	const struct yt_node *root = yt_root(d), *ctx, *cl, *us;
	const char *f = k->kubeconfig, *cname, *v;
	char *dir = xstrdup(f), *slash, *errs = NULL;
	int rc = -1;

	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (yt_nerrors(d) > 0 || root == NULL || root->kind != YT_MAP) {
		errs = yt_errors(d);
		snprintf(err, errlen, "%s", errs[0] ? errs : "kubeconfig: "
		    "not a YAML mapping\n");
		err[strcspn(err, "\n")] = '\0';
		goto out;
	}
	cname = k->context != NULL ? k->context : scalar(root,
	    "current-context");
	if (cname == NULL) {
		snprintf(err, errlen, "%s: no current-context (set "
		    "kubernetes.context)", f);
		goto out;
	}
	if ((ctx = yt_get(named(root, "contexts", cname), "context")) ==
	    NULL) {
		snprintf(err, errlen, "%s: no context '%s'", f, cname);
		goto out;
	}
	if ((cl = yt_get(named(root, "clusters", scalar(ctx, "cluster")),
	    "cluster")) == NULL) {
		snprintf(err, errlen, "%s: context '%s': no such cluster", f,
		    cname);
		goto out;
	}
	if ((us = yt_get(named(root, "users", scalar(ctx, "user")),
	    "user")) == NULL) {
		snprintf(err, errlen, "%s: context '%s': no such user", f,
		    cname);
		goto out;
	}
	if ((v = scalar(cl, "server")) == NULL ||
	    strncmp(v, "https://", 8) != 0 || v[8] == '\0') {
		snprintf(err, errlen, "%s: cluster of context '%s': server "
		    "must be an https:// URL", f, cname);
		goto out;
	}
	c->server = xstrdup(v);
	while (c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	if ((v = scalar(cl, "insecure-skip-tls-verify")) != NULL &&
	    strcmp(v, "false") != 0) {
		snprintf(err, errlen, "%s: insecure-skip-tls-verify is not "
		    "supported: give the cluster's certificate-authority", f);
		goto out;
	}
	if (pem(cl, "certificate-authority", dir, f, &c->ca_pem, err,
	    errlen) == -1)
		goto out;
	if (yt_get(us, "exec") != NULL || yt_get(us, "auth-provider") !=
	    NULL) {
		snprintf(err, errlen, "%s: user of context '%s': exec and "
		    "auth-provider credentials are not supported (use a "
		    "token, tokenFile or a client certificate)", f, cname);
		goto out;
	}
	if ((v = scalar(us, "token")) != NULL &&
	    (c->token = clean_token(xstrdup(v))) == NULL) {
		snprintf(err, errlen, "%s: user of context '%s': bad token",
		    f, cname);
		goto out;
	}
	if (c->token == NULL && (v = scalar(us, "tokenFile")) != NULL)
		c->token_file = v[0] == '/' ? xstrdup(v) :
		    xasprintf("%s/%s", dir, v);
	if (pem(us, "client-certificate", dir, f, &c->cert_pem, err,
	    errlen) == -1 ||
	    pem(us, "client-key", dir, f, &c->key_pem, err, errlen) == -1)
		goto out;
	if ((c->cert_pem == NULL) != (c->key_pem == NULL)) {
		snprintf(err, errlen, "%s: user of context '%s': a client "
		    "certificate needs its key and the key its certificate",
		    f, cname);
		goto out;
	}
	if (c->token == NULL && c->token_file == NULL && c->cert_pem ==
	    NULL) {
		snprintf(err, errlen, "%s: user of context '%s' has no "
		    "token, tokenFile or client certificate", f, cname);
		goto out;
	}
	if ((v = scalar(ctx, "namespace")) != NULL)
		c->namespace = xstrdup(v);
	rc = 0;
out:
	free(errs);
	free(dir);
	yt_free(d);
	return rc;
}

static int
in_cluster(const struct ebb_kube *k, struct kube_creds *c, char *err,
    size_t errlen)
{
	const char *dir = k->sa_dir != NULL ? k->sa_dir : KUBE_SA_DIR;
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *path, *ns;

	if (host == NULL || *host == '\0' || port == NULL || *port == '\0' ||
	    port[strspn(port, "0123456789")] != '\0' ||
	    host[strcspn(host, "/@?# ")] != '\0') {
		snprintf(err, errlen, "in_cluster: KUBERNETES_SERVICE_HOST "
		    "and KUBERNETES_SERVICE_PORT are not set (is ebbd in a "
		    "pod?)");
		return -1;
	}
	c->server = strchr(host, ':') != NULL ?
	    xasprintf("https://[%s]:%s", host, port) :
	    xasprintf("https://%s:%s", host, port);
	path = xasprintf("%s/ca.crt", dir);
	c->ca_pem = slurp(path, "in_cluster", err, errlen);
	free(path);
	if (c->ca_pem == NULL)
		return -1;
	c->token_file = xasprintf("%s/token", dir);
	path = xasprintf("%s/namespace", dir);
	if ((ns = slurp(path, "in_cluster", err, errlen)) != NULL) {
		ns[strcspn(ns, " \t\r\n")] = '\0';
		if (ns[0] != '\0')
			c->namespace = xstrdup(ns);
		free(ns);
	}
	free(path);
	return 0;
}

int
kube_creds_refresh(struct kube_creds *c, char *err, size_t errlen)
{
	char *t;

	if (c->token_file == NULL)
		return 0;
	if ((t = slurp(c->token_file, "token", err, errlen)) == NULL)
		return -1;
	if ((t = clean_token(t)) == NULL) {
		snprintf(err, errlen, "token: %s is empty or not one line",
		    c->token_file);
		return -1;
	}
	wipe_free(c->token);
	c->token = t;
	return 0;
}

int
kube_creds_load(const struct ebb_kube *k, struct kube_creds *c, char *err,
    size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if ((k->kubeconfig != NULL ? from_kubeconfig(k, c, err, errlen) :
	    in_cluster(k, c, err, errlen)) == -1 ||
	    kube_creds_refresh(c, err, errlen) == -1) {
		kube_creds_clear(c);
		return -1;
	}
	return 0;
}
