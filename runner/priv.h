/*
 * priv: the worker's end of ebbd's privilege separation: asks the
 * privileged process (runner/privd.h) for what needs root, through
 * runner/privproto messages on a SOCK_SEQPACKET socketpair.
 *
 * Job control (start, adopt, signal) is sent and not waited for; what
 * becomes of a job arrives later as a job event. Opening or writing a file
 * is a call that waits for its answer (the privileged side bounds the time
 * it takes); messages that arrive meanwhile are kept and handled from the
 * loop afterwards, never inside the call. Commands (priv_run) answer
 * through a callback when they end. When the privileged side runs in the
 * same process (ebbd not root), the calls serve themselves through
 * privd_poll.
 */
#ifndef EBB_PRIV_H
#define EBB_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "runner/privproto.h"

struct priv;
struct privd;
struct priv_run;

/* A job event (JOBEV): fd (FINISHED: result.json) is the callee's. */
typedef void (*priv_jobev_cb)(void *arg, int64_t id, enum priv_ev what,
    int64_t pid, int64_t start_time, const char *text, int fd);
/* A command ended: a wait status and SUBPROC_* flags, or -1 and why. */
typedef void (*priv_exit_cb)(void *arg, int status, int flags,
    const char *why);

/*
 * Talks on fd (taken over). inproc: the privd serving the other end in
 * this process, or NULL. on_gone: the privileged side closed or spoke
 * nonsense (ebbd stops).
 */
struct priv	*priv_open(struct ev_loop *, int fd, struct privd *inproc,
		    void (*on_gone)(void *), void *arg);
void		 priv_close(struct priv *);
/* Where job events go (the local backend). */
void		 priv_on_jobev(struct priv *, priv_jobev_cb, void *arg);

int		 priv_start(struct priv *, int64_t id, const struct priv_cred *,
		    int64_t mem, int64_t kill_grace, int64_t output_limit,
		    const char *spec, size_t speclen, char *err, size_t errlen);
int		 priv_adopt(struct priv *, int64_t id, char *err, size_t errlen);
int		 priv_signal(struct priv *, int64_t id, int what, char *err,
		    size_t errlen);
/* A read-only descriptor of a local job's "stdout"/"stderr"; -1, errno. */
int		 priv_open_output(struct priv *, int64_t id, const char *stream,
		    char *err, size_t errlen);
/* <dir>/job-<id>/<name> opened for reading as cred; -1, errno. */
int		 priv_uopen(struct priv *, int64_t id, const struct priv_cred *,
		    const char *dir, const char *name, char *err,
		    size_t errlen);
/* Writes <dir>/job-<id>/<name> as cred (creating job-<id>); -1. */
int		 priv_uwrite(struct priv *, int64_t id,
		    const struct priv_cred *, const char *dir, const char *name,
		    const char *data, size_t len, char *err, size_t errlen);
/*
 * Runs argv (argv[0] a configured full path) as cred with stdin, stdout
 * and stderr from in, out and err_fd (the caller keeps and closes them);
 * cb is called once, from the loop. NULL with err set.
 */
struct priv_run	*priv_run(struct priv *, const struct priv_cred *,
		    int64_t timeout_ms, char *const *argv, char *const *env,
		    int in, int out, int err_fd, priv_exit_cb, void *arg,
		    char *err, size_t errlen);
/* Kills a command; its callback is never called. */
void		 priv_run_abandon(struct priv_run *);

#endif
