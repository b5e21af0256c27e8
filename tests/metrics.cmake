# Tests of the Prometheus /metrics endpoint (scheduler/metrics).

# metrics-demo: serves a canned render of every ebbd metric, prints its port.
add_executable(metrics-demo helpers/metrics-demo.c)
target_link_libraries(metrics-demo PRIVATE ebb_metrics)

ebb_unit_test(test_metrics unit/test_metrics.c ebb_metrics)
ebb_script_test(it_prometheus integration/it_prometheus.sh)
set_property(TEST it_prometheus APPEND PROPERTY ENVIRONMENT "EBB_METRICS_DEMO=$<TARGET_FILE:metrics-demo>")
# ebbd's own /metrics: per-job series, their bound, two real users.
ebb_script_test(it_metrics_jobs integration/it_metrics_jobs.sh)
# examples/grafana/ebb.json: every query parses and names ebbd's metrics.
ebb_script_test(it_grafana integration/it_grafana.sh)
