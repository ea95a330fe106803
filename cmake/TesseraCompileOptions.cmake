# Warnings and sanitizers for tessera's *own* targets (library sources, tests, benchmarks,
# examples). Consumers of the installed package get none of these flags.

function(tessera_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(TESSERA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(TESSERA_SANITIZE)
  string(REPLACE "," ";" _sanitizers "${TESSERA_SANITIZE}")
  foreach(_s IN LISTS _sanitizers)
    if(NOT _s MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "tessera: TESSERA_SANITIZE='${TESSERA_SANITIZE}': unknown sanitizer '${_s}' "
                          "(use address,undefined or thread)")
    endif()
  endforeach()
  set(TESSERA_SANITIZE_FLAGS -fsanitize=${TESSERA_SANITIZE} -fno-omit-frame-pointer)
  if(TESSERA_SANITIZE MATCHES "undefined")
    list(APPEND TESSERA_SANITIZE_FLAGS -fno-sanitize-recover=undefined)
  endif()
  # Applied directory-wide so tests, benchmarks and the library agree.
  add_compile_options(${TESSERA_SANITIZE_FLAGS})
  add_link_options(${TESSERA_SANITIZE_FLAGS})
endif()
