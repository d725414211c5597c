#pragma once
// Everything a program needs to run and trace tasks.

#include "taskscope/by_hand.hpp"
#include "taskscope/join_handle.hpp"
#include "taskscope/poll.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/sync.hpp"
#include "taskscope/task.hpp"
#include "taskscope/time.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/trace_hub.hpp"
#include "taskscope/waker.hpp"
