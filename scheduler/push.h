/*
 * push: ebbd's export of final ledger rows to an HTTP endpoint
 * (ebb.yaml: export; docs/export.md).
 *
 * The store numbers ledger rows in the order they become final
 * (store_final_after); push POSTs them in that order, as JSON batches of
 * at most export.batch rows, each row the `ebb report --json` row plus an
 * idempotency key, on ebbd's loop through common/http. It keeps a cursor
 * in the store, the last number an endpoint acknowledged, and advances it
 * only after a 2xx answer; a failure (refused, 5xx, 4xx, a redirect, a
 * timeout, an answer too large) sends the same rows again after a backoff,
 * for ever: no final row is skipped, and none is sent again once its 2xx
 * is recorded. Rows are read only when everything is committed, so a row
 * sent is a row that survives a crash.
 *
 * It does not settle ledgers (ledger.c) and reads nothing a user wrote
 * beyond the rows; the endpoint's answers are bounded in size and time
 * and never parsed.
 */
#ifndef EBB_PUSH_H
#define EBB_PUSH_H

#include <stddef.h>

struct ebbd;
struct push;

/*
 * Starts the export on d's loop with d's store (open) and config; idle
 * while export.url is unset. NULL with err if the store or curl fails.
 * Free with push_free (in-flight POSTs are dropped: their rows are sent
 * again by the next ebbd).
 */
struct push *push_new(struct ebbd *d, char *err, size_t errlen);
void	push_free(struct push *);
/*
 * Called by the loop once the store has committed: sends the next batch
 * if one is due and none is in flight.
 */
void	push_after_commit(struct push *);
/* The config was reloaded: takes up its export settings now. */
void	push_reconfigure(struct push *);

/* How the export is doing (for /metrics). */
struct push_stats {
	int64_t	 waiting;	/* final rows not acknowledged yet */
	int64_t	 rows;		/* rows acknowledged since ebbd started */
	int64_t	 failures;	/* failed tries since ebbd started */
	int64_t	 last_ok;	/* last acknowledgement, epoch s; 0 never */
};
/*
 * Fills *st; 0, 1 while the export is off (export.url unset: *st is
 * zeroed), or -1 with err when the store cannot say.
 */
int	push_stats(struct push *, struct push_stats *st, char *err,
	    size_t errlen);

#endif
