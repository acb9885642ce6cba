# Sanitizer and fuzzing builds (clang; see README "Fuzzing, sanitizers, soak").
#   AEPIPE_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer on every target, any
#                       report fatal (-fno-sanitize-recover=all); the whole test suite runs in it.
#   AEPIPE_FUZZ=ON      also instruments every object for libFuzzer (-fsanitize=fuzzer-no-link)
#                       and builds tests/fuzz/fuzz_*.cpp, so one build dir serves both.
#   AEPIPE_TSAN=ON      ThreadSanitizer; only the target aepipe_tsan_tests (tests/tsan) is
#                       meant to be built in such a dir: the graph tests, whose nodes are plain C++.
# oneDNN, oneTBB and the OpenMP runtime come from Debian and are not instrumented.
option(AEPIPE_SANITIZE "AddressSanitizer + UndefinedBehaviorSanitizer build" OFF)
option(AEPIPE_FUZZ "libFuzzer targets in tests/fuzz (clang; implies AEPIPE_SANITIZE)" OFF)
option(AEPIPE_TSAN "ThreadSanitizer build of the graph tests (target aepipe_tsan_tests)" OFF)

if(AEPIPE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AEPIPE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  set(AEPIPE_SANITIZE ON)
endif()
if(AEPIPE_SANITIZE AND AEPIPE_TSAN)
  message(FATAL_ERROR "AEPIPE_TSAN cannot be combined with AEPIPE_SANITIZE/AEPIPE_FUZZ: use two build dirs")
endif()

if(AEPIPE_SANITIZE OR AEPIPE_TSAN)
  # -O1 keeps the e2e tests fast enough; line tables are all the reports need.
  add_compile_options(-O1 -gline-tables-only -fno-omit-frame-pointer)
endif()
if(AEPIPE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
if(AEPIPE_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(AEPIPE_TSAN)
  add_compile_options(-fsanitize=thread)
  add_compile_definitions(AEPIPE_TSAN)  # code that TSan cannot check says so (nodes/data/normalize.cpp)
  add_link_options(-fsanitize=thread)
endif()
