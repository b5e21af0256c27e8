# Tests of carbon-intensity providers, history and the forecaster.
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
find_package(Threads REQUIRED)

# ci-server: replays recorded provider responses, injects faults.
add_executable(ci-server helpers/ci-server.c)
target_link_libraries(ci-server PRIVATE ebb_common PkgConfig::MHD Threads::Threads)

ebb_unit_test(test_http unit/test_http.c ebb_http)
set_property(TEST test_http APPEND PROPERTY ENVIRONMENT "EBB_CI_SERVER=$<TARGET_FILE:ci-server>")
add_dependencies(test_http ci-server)
ebb_unit_test(test_carbon unit/test_carbon.c ebb_sched)
ebb_unit_test(test_providers unit/test_providers.c ebb_carbon)
ebb_script_test(it_carbon integration/it_carbon.sh)
set_property(TEST it_carbon APPEND PROPERTY ENVIRONMENT "EBB_CI_SERVER=$<TARGET_FILE:ci-server>")
ebb_unit_test(test_ci unit/test_ci.c ebb_carbon)
ebb_unit_test(test_forecast unit/test_forecast.c ebb_carbon)
ebb_unit_test(test_trace unit/test_trace.c ebb_carbon)
