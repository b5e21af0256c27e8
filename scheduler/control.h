/*
 * control: the Unix control socket of ebbd.
 *
 * Accepts connections on the daemon's loop, identifies each peer with
 * SO_PEERCRED, decodes frames (sizes checked before use), runs commands
 * through cmd_run() and holds the replies until control_flush(), which the
 * loop calls after the store has committed, so no acknowledgement ever goes
 * out before the change it acknowledges is durable. Refuses peers past the
 * connection limits with a "busy" frame and closes idle, stalled and
 * half-sent connections (ebb.yaml control:, read at each use).
 */
#ifndef EBB_CONTROL_H
#define EBB_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

struct ebbd;
struct control;

/*
 * Binds path (refusing if another daemon answers there), sets its mode and
 * group, and starts accepting. NULL with err set.
 */
struct control *control_open(struct ebbd *, const char *path, mode_t mode,
	    const char *group, char *err, size_t errlen);
/* Stops accepting, closes every connection and removes the socket file. */
void	control_close(struct control *);
/* Sends the replies held since the last flush. */
void	control_flush(struct control *);

#endif
