/*
 * pmsg: the typed, size-checked messages between ebbd's unprivileged
 * worker and its privileged parent (runner/priv.h, runner/privd.h), in
 * the manner of OpenBSD's imsg.
 *
 * One message is one SOCK_SEQPACKET packet of at most PMSG_MAX bytes, with
 * up to PMSG_MAXFD file descriptors (SCM_RIGHTS) beside it. It starts with
 * a fixed header (magic, type, sequence number, job id) followed by fields,
 * each a one-byte tag and its value:
 *   'i'  int64                 8 bytes, host order (both ends are one host)
 *   's'  string                uint32 length n (1..), n bytes, the last NUL
 *                              and no other
 *   'g'  list of ids (gids)    uint32 count (<= PMSG_MAXGIDS), count x uint32
 * Readers take fields in the order the message type defines and fail on
 * any other tag, a length past the end, or bytes left over; nothing is read
 * before its size is checked. Bulk data (a job spec, a result file, a
 * job's output) never travels in a message: it travels as a descriptor.
 *
 * It does not know what the types mean (priv.h lists them) and does no I/O
 * except pmsg_send and pmsg_recv.
 */
#ifndef EBB_PMSG_H
#define EBB_PMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PMSG_MAX	65536
#define PMSG_MAXFD	3
#define PMSG_MAXGIDS	1024
#define PMSG_HDR	16

struct pmsg {
	uint16_t	 type;
	uint32_t	 seq;
	int64_t		 id;
	unsigned char	*buf;		/* the whole packet, header included */
	size_t		 len, cap;
	size_t		 off;		/* next field to read */
	int		 fd[PMSG_MAXFD];	/* -1: none */
	int		 nfd;
	int		 received;	/* fd[] are ours to close (pmsg_recv) */
};

/* An empty message, holding nothing (for pmsg_parse). */
void	pmsg_clear(struct pmsg *);
/* Starts a message to build (free with pmsg_free). */
void	pmsg_init(struct pmsg *, uint16_t type, uint32_t seq, int64_t id);
void	pmsg_put_i64(struct pmsg *, int64_t);
/* s must hold no more than PMSG_MAX bytes; NULL is sent as "". */
void	pmsg_put_str(struct pmsg *, const char *s);
/* n <= PMSG_MAXGIDS. */
void	pmsg_put_gids(struct pmsg *, const gid_t *, size_t n);
/* A NULL-terminated list of strings: its count, then each. */
void	pmsg_put_strv(struct pmsg *, char *const *v);
/* Sends fd beside the message; the caller keeps (and closes) it. */
void	pmsg_put_fd(struct pmsg *, int fd);
/* Whether what was built fits one message. */
int	pmsg_fits(const struct pmsg *);

/*
 * Takes the header of a received packet into a pmsg_clear()ed m (which
 * copies the packet and must be pmsg_free()d, also on failure). -1 with
 * err set if malformed.
 */
int	pmsg_parse(struct pmsg *, const void *buf, size_t len, char *err,
	    size_t errlen);
/* Field readers: -1 on a wrong tag, a bad length or the end. */
int	pmsg_get_i64(struct pmsg *, int64_t *);
/* *s points into the message (valid until pmsg_free). */
int	pmsg_get_str(struct pmsg *, const char **s);
/* At most max ids into out; *n how many. */
int	pmsg_get_gids(struct pmsg *, gid_t *out, size_t max, size_t *n);
/*
 * A list of at most max strings: *out is a new NULL-terminated array
 * (free the array, not the strings, which point into the message).
 */
int	pmsg_get_strv(struct pmsg *, size_t max, const char ***out);
/* 0 if every field was read, -1 if bytes are left. */
int	pmsg_get_end(const struct pmsg *);
/* The received descriptor i, taken over by the caller; -1 if none. */
int	pmsg_take_fd(struct pmsg *, int i);

/* Closes descriptors not taken (received messages) and frees the buffer. */
void	pmsg_free(struct pmsg *);

/*
 * Sends m on a SOCK_SEQPACKET socket. 0 sent, 1 would block (try again
 * when writable), -1 error (err set).
 */
int	pmsg_send(int sock, const struct pmsg *, char *err, size_t errlen);
/*
 * Receives one message into m. 0 received, 1 nothing yet, -1 error or
 * end of the channel (err says which). Truncated packets or descriptor
 * lists are errors.
 */
int	pmsg_recv(int sock, struct pmsg *, char *err, size_t errlen);

#endif
