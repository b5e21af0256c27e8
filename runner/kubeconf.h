/*
 * kubeconf: where a Kubernetes API server is and how ebbd proves who it
 * is there, from a kubeconfig file or from the service account of the pod
 * ebbd runs in.
 *
 * kubeconfig: the named context (else current-context) gives the cluster
 * (server, certificate-authority or -data) and the user (token,
 * tokenFile, client-certificate/-key or their -data) and a namespace.
 * Relative file names are relative to the kubeconfig's directory. Refused
 * with a message naming the file and the key: insecure-skip-tls-verify
 * (ebbd never talks to an API server it cannot authenticate), exec and
 * auth-provider plugins (they would run programs as ebbd), a plain-http
 * server, a user with no credentials. In-cluster: https://
 * $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host in
 * brackets), with token, ca.crt and namespace from the service-account
 * directory; the token is projected and rotated by the kubelet, so
 * kube_creds_refresh() reads token files again (callers do so every
 * minute, as client-go does). A token must be one word of printable
 * ASCII (it goes into a header as it is), at most KUBE_TOKEN_MAX bytes. No secret is ever logged or put in an error
 * message; clearing wipes tokens and keys.
 */
#ifndef EBB_KUBECONF_H
#define EBB_KUBECONF_H

#include <stddef.h>

struct ebb_kube;

#define KUBE_SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_TOKEN_MAX	65536	/* bytes of a bearer token, at most */

struct kube_creds {
	char	*server;	/* "https://host:port", no trailing '/' */
	char	*ca_pem;	/* CA bundle (PEM), or NULL: the system's */
	char	*token;		/* bearer token, or NULL */
	char	*token_file;	/* where the token is re-read from, or NULL */
	char	*cert_pem;	/* client certificate and key (PEM), or NULL */
	char	*key_pem;
	char	*namespace;	/* the context's namespace, or NULL */
};

/* Fills c (zeroed first); -1 with err set. */
int	kube_creds_load(const struct ebb_kube *, struct kube_creds *c,
	    char *err, size_t errlen);
/* Reads token_file again if there is one; -1 (token kept) on failure. */
int	kube_creds_refresh(struct kube_creds *, char *err, size_t errlen);
void	kube_creds_clear(struct kube_creds *);

#endif
