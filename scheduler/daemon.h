/*
 * daemon: the state every part of ebbd shares, and the command table.
 *
 * One struct ebbd per process, owned by ebbd.c's main(). Command handlers
 * (cmd_*.c) get it with the requesting peer and return the reply; they never
 * block and never write to sockets themselves.
 */
#ifndef EBB_DAEMON_H
#define EBB_DAEMON_H

#include <stdint.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

struct ebb_config;
struct store;
struct dispatch;
struct control;
struct carbon;
struct policy_set;
struct sampler;
struct metrics;
struct priv;
struct privd;
struct push;

struct ebbd {
	struct ev_loop		*loop;
	struct ebb_config	*cfg;
	struct store		*store;
	struct dispatch		*dispatch;
	struct control		*control;
	struct carbon		*carbon;
	struct policy_set	*policies;	/* cfg->policies, or NULL */
	struct sampler		*sampler;	/* job energy */
	struct metrics		*metrics;	/* /metrics, or NULL */
	struct push		*push;		/* export of final ledger rows */
	char			*config_path;	/* -c FILE, or NULL */
	char			*runner_path;	/* the ebb-run executable */
	struct priv		*priv;		/* the privileged process */
	struct privd		*privd;		/* it, when in this process
						   (not root), else NULL */
	int			 priv_gone;	/* it died: stopping, and what
						   it was asked did not
						   necessarily fail */
};

/*
 * Who sent a request, from SO_PEERCRED and SO_PEERGROUPS (never from the
 * request). control.c owns it, groups included, for the connection's life.
 */
struct peer {
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	char		 user[64];
	int		 admin;		/* root or member of admin_group */
	gid_t		*groups;	/* supplementary groups at connect time */
	int		 ngroups;	/* -1: the kernel did not say */
};

typedef json_t *(*cmd_fn)(struct ebbd *, const struct peer *,
    const json_t *args);

struct cmd {
	const char	*name;
	cmd_fn		 fn;
};

/* Runs one decoded request and returns its reply (new reference). */
json_t	*cmd_run(struct ebbd *, const struct peer *, const json_t *request);

/* Handlers, one per command (cmd_*.c). */
json_t	*cmd_hello(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_submit(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_queue(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_show(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_cancel(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_logs(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_sites(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_forecast(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_report(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_hold(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_release(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_update(struct ebbd *, const struct peer *, const json_t *);
json_t	*cmd_start_now(struct ebbd *, const struct peer *, const json_t *);

/*
 * Loads the job named by args' "id" (or `id` if >= 0) that the peer may see.
 * Returns the job (caller job_free()s) or NULL with *reply set to the error
 * reply.
 */
/*
 * The request's "ids" argument in *ids (borrowed from args): a list of 1
 * to EBB_PROTO_MAX_IDS job ids, or NULL when absent and not required.
 * Returns 0, or -1 with *reply set to the error reply.
 */
int	cmd_arg_ids(const json_t *args, int required, const json_t **ids,
	    json_t **reply);
/* The request's "id" argument, or -1 with *reply set to the error reply. */
int64_t	cmd_arg_id(const json_t *args, json_t **reply);
struct job *cmd_job_for_peer(struct ebbd *, const struct peer *,
	    int64_t id, json_t **reply);

/* What a command does to one job the peer may see: 0, or -1 with err. */
typedef int (*cmd_job_fn)(struct ebbd *, const struct peer *, struct job *,
    const void *arg, char *err, size_t errlen);
/*
 * Runs fn on each job of ids (cmd_arg_ids) that the peer may see; one
 * job's refusal does not stop the others. Returns the results array (new
 * reference): per id {"id", "ok", "state"} or {"id", "ok": false,
 * "error"}; another user's job is "no such job".
 */
json_t	*cmd_each_job(struct ebbd *, const struct peer *, const json_t *ids,
	    cmd_job_fn fn, const void *arg);

#endif
