# What a user of the installed engine does, as a test: install the build tree to a fresh
# prefix, configure each program in examples/ on its own against that prefix (nothing of
# the build tree in sight), build it and run it.
#
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -DCXX=...
#         [-DCXX_FLAGS=...] [-DLINKER_FLAGS=...] [-DBUILD_TYPE=...] [-DCLI=taskscope-cli]
#         -P build_examples.cmake
foreach(required IN ITEMS BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX)
    if(NOT DEFINED ${required})
        message(FATAL_ERROR "build_examples.cmake needs -D${required}=...")
    endif()
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/../cmake/run_step.cmake)

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run_step("install to ${prefix}" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(header IN ITEMS taskscope/taskscope.hpp taskscope/net/tcp.hpp taskscope/trace/trace_file.hpp)
    if(NOT EXISTS ${prefix}/include/${header})
        message(FATAL_ERROR "the install has no include/${header}")
    endif()
endforeach()

foreach(example IN ITEMS hello-runtime own-server)
    run_step("configure ${example}" ${CMAKE_COMMAND}
        -S ${SOURCE_DIR}/examples/${example} -B ${WORK_DIR}/${example}
        -G ${GENERATOR}
        -DCMAKE_PREFIX_PATH=${prefix}
        -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
        -DCMAKE_CXX_COMPILER=${CXX}
        "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
        "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
    run_step("build ${example}" ${CMAKE_COMMAND} --build ${WORK_DIR}/${example})
endforeach()

run_step("run hello-runtime" ${WORK_DIR}/hello-runtime/hello-runtime ${WORK_DIR}/hello.tstrace)
if(NOT step_output MATCHES "sum of squares 1..10 = 385")
    message(FATAL_ERROR "hello-runtime did not print its sum")
endif()
run_step("run own-server --self-test" ${WORK_DIR}/own-server/own-server --self-test 4)
if(NOT step_output MATCHES "400 of 400 lines echoed")
    message(FATAL_ERROR "own-server did not echo every line")
endif()

# own-server watched live, as its user would: started unchanged with TASKSCOPE_LISTEN, it
# says where it serves its trace; the installed CLI records it with record --attach.
if(DEFINED CLI AND UNIX)
    set(watch [=[
TASKSCOPE_LISTEN=127.0.0.1:0 "$1" --port 0 >"$2/own-server.out" 2>"$2/own-server.err" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
port=
for i in $(seq 200); do
    port=$(sed -n 's/.*serving the trace of .* on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$2/own-server.err")
    [ -n "$port" ] && break
    sleep 0.05
done
if [ -z "$port" ]; then
    echo "own-server did not say where its trace is:"; cat "$2/own-server.err"; exit 1
fi
"$3" record --attach "127.0.0.1:$port" -o "$2/watched.tstrace" --max-seconds 1 || exit 1
"$3" stats "$2/watched.tstrace"
]=])
    file(WRITE ${WORK_DIR}/watch-own-server.sh "${watch}")
    run_step("own-server watched by record --attach" sh ${WORK_DIR}/watch-own-server.sh
        ${WORK_DIR}/own-server/own-server ${WORK_DIR} ${CLI})
    if(NOT step_output MATCHES "own-server \\(2 worker")
        message(FATAL_ERROR "the recording of own-server watched live does not name it")
    endif()
endif()

# The traces they wrote read back with the installed CLI.
if(DEFINED CLI)
    run_step("stats of hello-runtime's trace" ${CLI} stats ${WORK_DIR}/hello.tstrace)
    if(NOT step_output MATCHES "tasks 11,")
        message(FATAL_ERROR "hello-runtime's trace does not hold its 11 tasks")
    endif()
    run_step("stats of own-server's trace" ${CLI} stats ${WORK_DIR}/own-server.tstrace)
    if(NOT step_output MATCHES "requests \\(server side\\): 400,")
        message(FATAL_ERROR "own-server's trace does not hold its 400 requests")
    endif()
endif()
