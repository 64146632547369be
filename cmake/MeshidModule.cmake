# Module layering from DESIGN.md, enforced at configure time: a module links, and so may
# include, only the modules listed for it here. Changing this table is a design change.
set(MESHID_ALLOWED_base "")
set(MESHID_ALLOWED_pki base)
set(MESHID_ALLOWED_telemetry base)
set(MESHID_ALLOWED_policy base pki)
set(MESHID_ALLOWED_store base pki)
set(MESHID_ALLOWED_ca base pki policy store telemetry api)
set(MESHID_ALLOWED_agent base pki telemetry api)
set(MESHID_ALLOWED_proxy base pki policy telemetry api)
set(MESHID_ALLOWED_cli base pki telemetry policy store ca agent proxy api)
# Test helpers may use what the modules under test use.
set(MESHID_ALLOWED_testing base pki)

# meshid_module(NAME SOURCES ... [MODULES m...] [PUBLIC_LIBS l...] [PRIVATE_LIBS l...])
# Declares meshid::NAME from src/NAME; only include/ is visible to its users.
function(meshid_module name)
  cmake_parse_arguments(M "" "" "SOURCES;MODULES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  foreach(dep IN LISTS M_MODULES)
    if(NOT dep IN_LIST MESHID_ALLOWED_${name})
      message(FATAL_ERROR "module '${name}' may not use module '${dep}' (see DESIGN.md)")
    endif()
  endforeach()
  add_library(meshid_${name} STATIC ${M_SOURCES})
  add_library(meshid::${name} ALIAS meshid_${name})
  target_include_directories(meshid_${name} PUBLIC include PRIVATE .)
  list(TRANSFORM M_MODULES PREPEND "meshid::")
  target_link_libraries(meshid_${name} PUBLIC ${M_MODULES} ${M_PUBLIC_LIBS}
                                       PRIVATE ${M_PRIVATE_LIBS})
endfunction()

# meshid_test(NAME SOURCES ... LIBS ... [PREFIX p]) builds one GoogleTest binary and registers
# its tests with CTest, their names starting with PREFIX when given (so that `ctest -R policy`
# selects a module). Tests are listed when CTest runs, so building never runs test code.
function(meshid_test name)
  if(NOT MESHID_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "PREFIX" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       TEST_PREFIX "${T_PREFIX}")
endfunction()
