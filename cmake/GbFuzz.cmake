# -DGB_FUZZ=ON builds the libFuzzer targets of tests/fuzz with clang, the
# fuzzer's runtime and AddressSanitizer + UBSan. Everything the targets link
# (gb_common, gb_proto, the service sources they name) is compiled with the
# same sanitizers and with libFuzzer's coverage instrumentation, so that
# the fuzzer is guided through our code. The libraries from Debian
# (jansson, yajl, http-parser, protobuf-c, libidn2, libpsl) are used as
# installed: not instrumented, their own code outside ASan's view.
# scripts/fuzz.sh configures build-fuzz/ this way; docs/RELIABILITY.md says
# how to run it.
if(GB_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GB_FUZZ needs clang (libFuzzer): configure with CC=clang, "
                        "or run scripts/fuzz.sh")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # Only the fuzz targets bring libFuzzer's main().
  set(GB_FUZZ_LINK_OPTIONS -fsanitize=fuzzer)
endif()
