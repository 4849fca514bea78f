# Run by ctest (tests/CMakeLists.txt adds it to TEST_INCLUDE_FILES after doctest's case lists).
#
# `make test` runs ctest with one job per core. The reliability cases ("reliability: ...",
# "postgres: ..."; tests/cli/reliability_*_test.cpp and postgres_reliability_test.cpp) race many
# processes, SIGKILL them, or hold a lock past a timeout, so they run alone: what they race is
# each other only.
foreach(case IN LISTS runctl_cli_cases runctl_cli_postgres_cases)
  if(case MATCHES "^cli(-postgres)?/(reliability|postgres): ")
    set_tests_properties("${case}" PROPERTIES RUN_SERIAL TRUE)
  endif()
endforeach()
