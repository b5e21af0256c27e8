/*
 * exporter: what ebbd shows at /metrics (docs/metrics.md), rendered on
 * demand from the store, the carbon manager and the sampler.
 */
#ifndef EBB_EXPORTER_H
#define EBB_EXPORTER_H

struct metrics_text;

/* A metrics_render_cb; arg is the struct ebbd. */
void	exporter_render(void *arg, struct metrics_text *);

#endif
