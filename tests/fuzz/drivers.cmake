# What each fuzz driver links (shared by CMakeLists.txt and replay.cmake). A driver not listed
# links every samsa library; listing the few it needs keeps it building while unrelated modules
# are broken. samsa_fuzz_libs(<name> OUT) sets OUT.
set(samsa_fuzz_libs_request samsa_proto)

function(samsa_fuzz_libs name out)
  if(DEFINED samsa_fuzz_libs_${name})
    set(${out} ${samsa_fuzz_libs_${name}} PARENT_SCOPE)
  else()
    set(${out} ${SAMSA_ALL_LIBS} PkgConfig::JANSSON PARENT_SCOPE)
  endif()
endfunction()
