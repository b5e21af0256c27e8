/*
 * privproto: each message type's fields, listed once in fields() and
 * walked both to encode and to decode, so the two can never disagree.
 * Decoding checks every value's range as well as its shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/privproto.h"

struct walk {
	struct pmsg	*m;
	int		 dec;		/* 1: read into pm, 0: write from it */
};

static int
f_i64(struct walk *w, int64_t *v)
{
	if (w->dec)
		return pmsg_get_i64(w->m, v);
	pmsg_put_i64(w->m, *v);
	return 0;
}

static int
f_str(struct walk *w, const char **s)
{
	if (w->dec)
		return pmsg_get_str(w->m, s);
	pmsg_put_str(w->m, *s);
	return 0;
}

static int
f_strv(struct walk *w, const char ***v)
{
	if (w->dec)
		return pmsg_get_strv(w->m, PRIV_MAXARGS, v);
	pmsg_put_strv(w->m, (char *const *)*v);
	return 0;
}

static int
f_cred(struct walk *w, struct priv_cred *c)
{
	int64_t uid = c->uid, gid = c->gid;

	if (f_i64(w, &uid) == -1 || f_i64(w, &gid) == -1)
		return -1;
	if (!w->dec) {
		pmsg_put_gids(w->m, c->groups, c->ngroups);
		return 0;
	}
	/* (uid_t)-1 means "unchanged" to the kernel: never a real id. */
	if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
		return -1;
	c->uid = (uid_t)uid;
	c->gid = (gid_t)gid;
	if (pmsg_get_gids(w->m, c->groups, PRIV_MAXGROUPS, &c->ngroups) == -1)
		return -1;
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == (gid_t)-1)
			return -1;
	return 0;
}

/* The fields of pm's type, in order; -1 on the first that fails. */
static int
fields(struct walk *w, struct privmsg *pm)
{
	switch (pm->type) {
	case PRIV_START:
		return f_cred(w, &pm->cred) || f_i64(w, &pm->mem) ||
		    f_i64(w, &pm->kill_grace) || f_i64(w, &pm->output_limit) ?
		    -1 : 0;
	case PRIV_ADOPT:
	case PRIV_RUNKILL:
	case PRIV_OK:
	case PRIV_FD:
		return 0;
	case PRIV_SIGNAL:
		return f_i64(w, &pm->what);
	case PRIV_OPEN:
		return f_str(w, &pm->stream);
	case PRIV_UOPEN:
	case PRIV_UWRITE:
		return f_cred(w, &pm->cred) || f_str(w, &pm->dir) ||
		    f_str(w, &pm->name) ? -1 : 0;
	case PRIV_RUN:
		return f_cred(w, &pm->cred) || f_i64(w, &pm->timeout_ms) ||
		    f_strv(w, &pm->argv) || f_strv(w, &pm->env) ? -1 : 0;
	case PRIV_ERR:
		return f_i64(w, &pm->status) || f_str(w, &pm->text) ? -1 : 0;
	case PRIV_EXIT:
		return f_i64(w, &pm->status) || f_i64(w, &pm->flags) ? -1 : 0;
	case PRIV_JOBEV:
		return f_i64(w, &pm->what) || f_i64(w, &pm->pid) ||
		    f_i64(w, &pm->start_time) || f_str(w, &pm->text) ? -1 : 0;
	}
	return -1;
}

/* How many descriptors a message of pm's type carries; -1: unknown type. */
static int
nfds(const struct privmsg *pm)
{
	switch (pm->type) {
	case PRIV_START:
	case PRIV_UWRITE:
	case PRIV_FD:
		return 1;
	case PRIV_RUN:
		return 3;
	case PRIV_JOBEV:
		return pm->what == PRIV_EV_FINISHED;
	default:
		return 0;
	}
}

/* Ranges a decoded message must keep. */
static int
valid(const struct privmsg *pm)
{
	switch (pm->type) {
	case PRIV_START:
		return pm->id > 0 && pm->mem >= 0 && pm->kill_grace >= 0 &&
		    pm->output_limit >= 0;
	case PRIV_ADOPT:
	case PRIV_SIGNAL:
	case PRIV_OPEN:
	case PRIV_UOPEN:
	case PRIV_UWRITE:
		if (pm->id <= 0)
			return 0;
		if (pm->type == PRIV_SIGNAL)
			return pm->what >= PRIV_CANCEL && pm->what <= PRIV_THAW;
		return 1;
	case PRIV_RUN:
		return pm->timeout_ms >= 0 && pm->argv[0] != NULL;
	case PRIV_JOBEV:
		return pm->id > 0 && pm->what >= PRIV_EV_STARTED &&
		    pm->what <= PRIV_EV_FAILED;
	default:
		return 1;
	}
}

void
privmsg_clear(struct privmsg *pm)
{
	memset(pm, 0, sizeof(*pm));
	for (int i = 0; i < PMSG_MAXFD; i++)
		pm->fd[i] = -1;
}

int
privmsg_encode(const struct privmsg *pm, struct pmsg *m, char *err,
    size_t errlen)
{
	struct privmsg copy = *pm;
	struct walk w = { m, 0 };
	int n = nfds(pm);

	pmsg_init(m, (uint16_t)pm->type, pm->seq, pm->id);
	if (fields(&w, &copy) == -1 || n < 0) {
		snprintf(err, errlen, "message type %d unknown", (int)pm->type);
		pmsg_free(m);
		return -1;
	}
	for (int i = 0; i < n; i++)
		pmsg_put_fd(m, pm->fd[i]);
	if (!pmsg_fits(m)) {
		snprintf(err, errlen, "message of %zu bytes is too large",
		    m->len);
		pmsg_free(m);
		return -1;
	}
	return 0;
}

int
privmsg_decode(struct pmsg *m, struct privmsg *pm, char *err, size_t errlen)
{
	struct walk w = { m, 1 };
	int n;

	privmsg_clear(pm);
	pm->type = (enum priv_type)m->type;
	pm->seq = m->seq;
	pm->id = m->id;
	if (fields(&w, pm) == -1 || pmsg_get_end(m) == -1) {
		snprintf(err, errlen, "malformed message of type %u",
		    (unsigned)m->type);
		privmsg_release(pm);
		return -1;
	}
	if (!valid(pm)) {
		snprintf(err, errlen, "message of type %u: a value is out of "
		    "range", (unsigned)m->type);
		privmsg_release(pm);
		return -1;
	}
	n = nfds(pm);
	if (m->nfd != n) {
		snprintf(err, errlen, "message of type %u: %d descriptors, not "
		    "%d", (unsigned)m->type, m->nfd, n);
		privmsg_release(pm);
		return -1;
	}
	for (int i = 0; i < n; i++)
		pm->fd[i] = pmsg_take_fd(m, i);
	return 0;
}

void
privmsg_release(struct privmsg *pm)
{
	free(pm->argv);
	free(pm->env);
	pm->argv = pm->env = NULL;
	for (int i = 0; i < PMSG_MAXFD; i++)
		if (pm->fd[i] >= 0) {
			close(pm->fd[i]);
			pm->fd[i] = -1;
		}
}

int
privmsg_send(int sock, const struct privmsg *pm, char *err, size_t errlen)
{
	struct pmsg m;
	int rc;

	if (privmsg_encode(pm, &m, err, errlen) == -1)
		return -1;
	if ((rc = pmsg_send(sock, &m, err, errlen)) == 1)
		snprintf(err, errlen, "the other side has not read for too "
		    "long");
	pmsg_free(&m);
	return rc == 0 ? 0 : -1;
}

int
privmsg_recv(int sock, struct pmsg *raw, struct privmsg *pm, char *err,
    size_t errlen)
{
	int rc;

	privmsg_clear(pm);
	if ((rc = pmsg_recv(sock, raw, err, errlen)) != 0)
		return rc;
	return privmsg_decode(raw, pm, err, errlen);
}
