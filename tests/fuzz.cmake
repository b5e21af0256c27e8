# Fuzz harnesses (tests/fuzz/): each is one file defining
# LLVMFuzzerTestOneInput. In every build ctest replays its corpus
# (tests/fuzz/corpus/NAME); with -DEBB_FUZZ=ON (clang) the harnesses are
# libFuzzer programs and the `fuzz` target runs each for FUZZ_TIME seconds
# (bench/fuzz.sh; docs/fuzzing.md).
add_library(ebb_fuzz STATIC fuzz/fuzz.c)
target_link_libraries(ebb_fuzz PUBLIC ebb_carbon ebb_common)
if(NOT EBB_FUZZ)
  add_library(ebb_fuzz_replay STATIC fuzz/replay_main.c)
  target_link_libraries(ebb_fuzz_replay PUBLIC ebb_common)
endif()

set(EBB_FUZZ_HARNESSES "")
# ebb_fuzz_test(NAME LIBS...): fuzz_NAME from fuzz/fuzz_NAME.c, replayed
# over its corpus by ctest.
function(ebb_fuzz_test name)
  set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
  add_executable(fuzz_${name} fuzz/fuzz_${name}.c)
  target_link_libraries(fuzz_${name} PRIVATE ${ARGN} ebb_fuzz)
  if(EBB_FUZZ)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    add_test(NAME fuzz_${name} COMMAND fuzz_${name} -runs=0 ${corpus})
  else()
    target_link_libraries(fuzz_${name} PRIVATE ebb_fuzz_replay)
    add_test(NAME fuzz_${name} COMMAND fuzz_${name} ${corpus})
  endif()
  set_tests_properties(fuzz_${name} PROPERTIES TIMEOUT 60)
  set(EBB_FUZZ_HARNESSES ${EBB_FUZZ_HARNESSES} ${name} PARENT_SCOPE)
endfunction()

ebb_fuzz_test(proto ebb_common)
ebb_fuzz_test(electricitymaps ebb_carbon)
ebb_fuzz_test(watttime ebb_carbon)
ebb_fuzz_test(ukci ebb_carbon)
ebb_fuzz_test(entsoe ebb_carbon)
ebb_fuzz_test(trace ebb_carbon)
ebb_fuzz_test(config ebb_config)
ebb_fuzz_test(policy ebb_policy)
ebb_fuzz_test(jobfile ebb_config)
ebb_fuzz_test(workload ebb_sim)
ebb_fuzz_test(privmsg ebb_runner)

if(EBB_FUZZ)
  set(targets "")
  foreach(h ${EBB_FUZZ_HARNESSES})
    list(APPEND targets fuzz_${h})
  endforeach()
  add_custom_target(fuzz
    COMMAND bash ${CMAKE_SOURCE_DIR}/bench/fuzz.sh ${CMAKE_CURRENT_BINARY_DIR}
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus ${EBB_FUZZ_HARNESSES}
    DEPENDS ${targets} USES_TERMINAL
    COMMENT "libFuzzer: each harness for FUZZ_TIME seconds (default 60)")
endif()
