/*
 * subproc: run a command on the libev loop without blocking it (see
 * subproc.h). fork + exec rather than posix_spawn because the child may
 * have to change its credentials first; between fork and exec it calls
 * only async-signal-safe functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "runner/priv.h"
#include "runner/subproc.h"

extern char **environ;

struct stream {
	int		 fd;
	char		*buf;
	size_t		 len, cap;	/* cap: bytes buf holds, less the NUL */
	size_t		 max;		/* cap's limit */
	int		 dropped;	/* bytes were read past max */
	ev_io		 io;
};

struct subproc {
	struct ev_loop	*loop;
	pid_t		 pid;
	int		 status, exited, flags;
	struct priv_run	*run;		/* started by the privileged process */
	struct stream	 out, err;
	ev_child	 child;
	ev_timer	 timer;
	subproc_cb	 cb;
	void		*arg;
};

static void
stream_stop(struct subproc *p, struct stream *s)
{
	if (s->fd >= 0) {
		ev_io_stop(p->loop, &s->io);
		close(s->fd);
		s->fd = -1;
	}
}

static void
release(struct subproc *p)
{
	stream_stop(p, &p->out);
	stream_stop(p, &p->err);
	ev_child_stop(p->loop, &p->child);
	ev_timer_stop(p->loop, &p->timer);
	free(p->out.buf);
	free(p->err.buf);
	free(p);
}

static void
maybe_done(struct subproc *p)
{
	if (!p->exited || p->out.fd >= 0 || p->err.fd >= 0)
		return;
	p->out.buf[p->out.len] = '\0';
	p->err.buf[p->err.len] = '\0';
	ev_child_stop(p->loop, &p->child);
	ev_timer_stop(p->loop, &p->timer);
	if (p->out.dropped)
		p->flags |= SUBPROC_TRUNCATED;
	p->cb(p->arg, p->status, p->flags, p->out.buf, p->err.buf);
	release(p);
}

static void
read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct subproc *p = io->data;
	struct stream *s = io == &p->out.io ? &p->out : &p->err;
	char scratch[4096];
	ssize_t n;

	for (;;) {
		size_t room;

		if (s->len == s->cap && s->cap < s->max) {
			s->cap = s->cap * 4 > s->max ? s->max : s->cap * 4;
			s->buf = xrealloc(s->buf, s->cap + 1);
		}
		room = s->cap - s->len;
		if (room > 0)
			n = read(s->fd, s->buf + s->len, room);
		else
			n = read(s->fd, scratch, sizeof(scratch));
		if (n > 0) {
			if (room > 0)
				s->len += (size_t)n;
			else
				s->dropped = 1;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		break;		/* EOF or error: the stream is done */
	}
	stream_stop(p, s);
	maybe_done(p);
}

static void
child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	struct subproc *p = c->data;

	p->status = c->rstatus;
	p->exited = 1;
	ev_child_stop(loop, c);
	maybe_done(p);
}

static void
run_cb(void *arg, int status, int flags, const char *why)
{
	struct subproc *p = arg;

	p->run = NULL;
	p->status = status;
	p->flags |= flags;
	p->exited = 1;
	if (why != NULL) {
		/* It never ran: say why where its stderr would be. */
		size_t n = strlen(why);

		p->err.buf = xrealloc(p->err.buf, n + 1);
		memcpy(p->err.buf, why, n);
		p->err.len = n;
		p->err.cap = n;
		p->status = -1;
	}
	maybe_done(p);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct subproc *p = t->data;

	p->flags |= SUBPROC_TIMED_OUT;
	kill(p->pid, SIGKILL);
}

/* In the child: report errno on fd and exit. */
static void __attribute__((noreturn))
child_fail(int fd, const char *what)
{
	int e = errno;
	const char *msg = strerror(e);

	(void)!write(fd, what, strlen(what));
	(void)!write(fd, ": ", 2);
	(void)!write(fd, msg, strlen(msg));
	_exit(127);
}

static void
stream_init(struct subproc *p, struct stream *s, int fd, size_t max)
{
	s->fd = fd;
	s->max = max;
	s->cap = max < 4096 ? max : 4096;
	s->buf = xmalloc(s->cap + 1);
	ev_io_init(&s->io, read_cb, fd, EV_READ);
	s->io.data = p;
	ev_io_start(p->loop, &s->io);
}

int
subproc_spawn(const struct subproc_req *req, int in, int out, int er,
    pid_t *pidp, char *err, size_t errlen)
{
	const struct priv_cred *c = req->cred;
	pid_t pid;

	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int nul;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		if (in >= 0)
			dup2(in, 0);
		else if ((nul = open("/dev/null", O_RDONLY)) >= 0)
			dup2(nul, 0);
		dup2(out, 1);
		dup2(er, 2);
		closefrom(3);	/* nothing of ours outlives the drop */
		if (c != NULL && geteuid() == 0 && (setgroups(c->ngroups,
		    c->groups) == -1 || setresgid(c->gid, c->gid, c->gid) ==
		    -1 || setresuid(c->uid, c->uid, c->uid) == -1))
			child_fail(2, "cannot change to the job's user");
		execve(req->argv[0], req->argv, req->envp ? req->envp :
		    environ);
		child_fail(2, req->argv[0]);
	}
	*pidp = pid;
	return 0;
}

struct subproc *
subproc_run(struct ev_loop *loop, const struct subproc_req *req,
    subproc_cb cb, void *arg, char *err, size_t errlen)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	struct subproc *p;
	pid_t pid;

	if (req->input != NULL && req->inlen > 65536) {
		snprintf(err, errlen, "input of %zu bytes is too long",
		    req->inlen);
		return NULL;
	}
	/* Only our read ends are non-blocking: O_NONBLOCK on a pipe2() would
	 * be shared by the child's write end, and it would see EAGAIN. */
	if ((req->input != NULL && pipe2(in, O_CLOEXEC) == -1) ||
	    pipe2(out, O_CLOEXEC) == -1 || pipe2(er, O_CLOEXEC) == -1 ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(er[0], F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* Small input fits the empty pipe: write it all before forking. */
	if (req->input != NULL) {
		if (write(in[1], req->input, req->inlen) !=
		    (ssize_t)req->inlen) {
			snprintf(err, errlen, "pipe write: %s",
			    strerror(errno));
			goto fail;
		}
		close(in[1]);
		in[1] = -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->loop = loop;
	p->cb = cb;
	p->arg = arg;
	if (req->priv != NULL && req->cred != NULL) {
		static char *const noenv[] = { NULL };

		p->run = priv_run(req->priv, req->cred,
		    (int64_t)(req->timeout * 1000), req->argv,
		    req->envp ? req->envp : noenv, in[0], out[1], er[1],
		    run_cb, p, err, errlen);
		if (p->run == NULL) {
			free(p);
			goto fail;
		}
	} else if (subproc_spawn(req, in[0], out[1], er[1], &pid, err,
	    errlen) == -1) {
		free(p);
		goto fail;
	}
	if (in[0] >= 0)
		close(in[0]);
	close(out[1]);
	close(er[1]);
	stream_init(p, &p->out, out[0], req->max_out ? req->max_out :
	    SUBPROC_MAX);
	stream_init(p, &p->err, er[0], SUBPROC_MAX);
	if (p->run != NULL)
		return p;	/* its end and timeout come from priv */
	p->pid = pid;
	ev_child_init(&p->child, child_cb, pid, 0);
	p->child.data = p;
	ev_child_start(loop, &p->child);
	ev_timer_init(&p->timer, timer_cb, req->timeout, 0);
	p->timer.data = p;
	if (req->timeout > 0)
		ev_timer_start(loop, &p->timer);
	return p;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	return NULL;
}

void
subproc_abandon(struct subproc *p)
{
	if (p == NULL)
		return;
	if (p->run != NULL)
		priv_run_abandon(p->run);
	else if (!p->exited)
		kill(p->pid, SIGKILL);
	release(p);
}
