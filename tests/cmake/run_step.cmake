# For the test scripts that drive whole programs (tests/install, tests/package): runs a
# command in WORK_DIR, shows what it printed, stops the script if it failed, and leaves its
# standard output in `step_output`.
function(run_step what)
    execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WORK_DIR}
        RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message(STATUS "${what}:\n${out}${err}")
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${what} failed (${result})")
    endif()
    set(step_output "${out}" PARENT_SCOPE)
endfunction()
