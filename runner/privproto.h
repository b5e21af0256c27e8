/*
 * privproto: the messages between ebbd's unprivileged worker and its
 * privileged parent, each type's fields written once (privproto.c) and
 * used both to build and to check-and-read a message (over runner/pmsg).
 *
 * Worker -> parent (requests; `seq` numbers them, replies carry it back):
 *   START   id; cred, mem, kill_grace, output_limit; fd: the job spec
 *           (JSON: argv, env, workdir...; copied, never parsed, by the
 *           parent)                -> events (STARTED or FAILED), no reply
 *   ADOPT   id                     -> events, no reply
 *   SIGNAL  id; what (PRIV_CANCEL, PRIV_FREEZE, PRIV_THAW) -> no reply
 *           (the parent logs what it could not do)
 *   OPEN    id; stream ("stdout", "stderr")         -> FD or ERR
 *   UOPEN   id; cred, dir, name: open <dir>/job-<id>/<name> for reading
 *           as the user cred names                  -> FD or ERR
 *   UWRITE  id; cred, dir, name; fd: the contents: create <dir>/job-<id>
 *           for the user and write <name> in it as that user -> OK or ERR
 *   RUN     cred, timeout_ms, argv, env; fds: stdin, stdout, stderr:
 *           run an allowed command as the user      -> EXIT or ERR
 *   RUNKILL id: the seq of a RUN to kill            (no reply)
 * Parent -> worker:
 *   OK      seq
 *   ERR     seq; status (an errno, 0 if none fits), text
 *   FD      seq; fd
 *   EXIT    seq; status (a wait status), flags (SUBPROC_*)
 *   JOBEV   id; what (PRIV_EV_*), pid, start_time, text; fd: result.json
 *           with PRIV_EV_FINISHED
 */
#ifndef EBB_PRIVPROTO_H
#define EBB_PRIVPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner/pmsg.h"

enum priv_type {
	PRIV_START = 1, PRIV_ADOPT, PRIV_SIGNAL, PRIV_OPEN, PRIV_UOPEN,
	PRIV_UWRITE, PRIV_RUN, PRIV_RUNKILL,
	PRIV_OK = 64, PRIV_ERR, PRIV_FD, PRIV_EXIT, PRIV_JOBEV,
};

enum { PRIV_CANCEL, PRIV_FREEZE, PRIV_THAW };

enum priv_ev {
	PRIV_EV_STARTED,	/* pid, start_time */
	PRIV_EV_FINISHED,	/* fd: result.json */
	PRIV_EV_LOST,		/* text: why */
	PRIV_EV_UNSTARTED,	/* adopt: ebb-run never began it */
	PRIV_EV_FAILED,		/* text: why it could not be started */
};

#define PRIV_MAXGROUPS	256
#define PRIV_MAXARGS	64

/* Who a job or command runs as: never taken from a job's files. */
struct priv_cred {
	uid_t		 uid;
	gid_t		 gid;
	gid_t		 groups[PRIV_MAXGROUPS];
	size_t		 ngroups;
};

/* One message, its fields by name; which are used depends on type. */
struct privmsg {
	enum priv_type	 type;
	uint32_t	 seq;
	int64_t		 id;
	struct priv_cred cred;
	int64_t		 mem, kill_grace, output_limit;
	int64_t		 what;		/* SIGNAL, JOBEV */
	int64_t		 timeout_ms;
	int64_t		 status, flags;	/* EXIT; ERR: status is an errno */
	int64_t		 pid, start_time;	/* JOBEV */
	const char	*stream;	/* OPEN */
	const char	*dir, *name;	/* UOPEN, UWRITE */
	const char	*text;		/* ERR, JOBEV */
	const char	**argv, **env;	/* RUN (NULL-terminated) */
	int		 fd[PMSG_MAXFD];	/* -1: none */
};

/* A message with nothing set (fds -1). */
void	privmsg_clear(struct privmsg *);
/*
 * Builds m from pm (pmsg_free m after sending). -1 if it does not fit one
 * message (err set).
 */
int	privmsg_encode(const struct privmsg *pm, struct pmsg *m, char *err,
	    size_t errlen);
/*
 * Checks and reads a received message: every field of its type, the
 * descriptors it must carry (taken out of m), nothing more. Strings point
 * into m. -1 with err set if malformed. Free with privmsg_release.
 */
int	privmsg_decode(struct pmsg *m, struct privmsg *pm, char *err,
	    size_t errlen);
/* Frees what decode allocated and closes descriptors nobody took. */
void	privmsg_release(struct privmsg *);

/*
 * Encodes and sends pm on a blocking socket (descriptors stay the
 * caller's). -1 with err set if it does not fit, or the peer is gone or
 * has not read for the socket's send timeout.
 */
int	privmsg_send(int sock, const struct privmsg *pm, char *err,
	    size_t errlen);
/*
 * Receives and decodes one message into pm, whose strings point into raw
 * (pmsg_free raw and privmsg_release pm after use, whatever the result).
 * 0 received, 1 nothing waiting, -1 malformed or the channel closed.
 */
int	privmsg_recv(int sock, struct pmsg *raw, struct privmsg *pm,
	    char *err, size_t errlen);

#endif
