# Corpus replay for every fuzz driver (included by tests/CMakeLists.txt in every build):
#   tests/fuzz/fuzz_<name>.c + tests/fuzz/corpus/<name>/  ->  executable fuzz_replay_<name>,
#   ctest "fuzz-smoke.<name>" (label fuzz-smoke) running every file of the corpus through the
#   driver with replay_main.c instead of libFuzzer. Under the asan preset this replays the corpus
#   with ASan+UBSan. A driver without a corpus directory is built but not registered.
include(${CMAKE_CURRENT_LIST_DIR}/drivers.cmake)
file(GLOB samsa_fuzz_drivers CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fuzz_*.c)
foreach(src ${samsa_fuzz_drivers})
  get_filename_component(driver ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${driver})
  set(exe fuzz_replay_${name})
  add_executable(${exe} ${src} ${CMAKE_CURRENT_LIST_DIR}/replay_main.c)
  samsa_fuzz_libs(${name} libs)
  target_link_libraries(${exe} PRIVATE ${libs})
  target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  set(corpus ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
  if(IS_DIRECTORY ${corpus})
    add_test(NAME fuzz-smoke.${name} COMMAND ${exe} ${corpus})
    set_tests_properties(fuzz-smoke.${name} PROPERTIES LABELS fuzz-smoke TIMEOUT 300)
  endif()
endforeach()

# The seed writer for the request corpus (not a test): fuzz_seed_request DIR.
add_executable(fuzz_seed_request ${CMAKE_CURRENT_LIST_DIR}/seed_request.c)
target_link_libraries(fuzz_seed_request PRIVATE samsa_proto)
target_include_directories(fuzz_seed_request PRIVATE ${PROJECT_SOURCE_DIR}/src)

