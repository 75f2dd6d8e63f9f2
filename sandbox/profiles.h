// Each ttyaudit program's sandbox (sandbox/sandbox.h): the syscalls it makes once set up, each
// with its reason, and the capabilities it keeps. Found by running every path of each program
// under `strace -f` (output, input, resize, signals, the exit, spool writes and fsync, the
// tracker hub and its in-process fallback, timers, the seal) and kept to those.
//
// A program that is not here (the `serve` verb, say) builds its own SandboxProfile: start from
// BaseSyscalls() and add what it needs, each with its reason.
#pragma once

#include <vector>

#include "sandbox/sandbox.h"

namespace ttyaudit {

/// What every C++ program here makes: memory, threads' futexes, time, its own files' I/O, exit.
std::vector<SyscallRule> BaseSyscalls();

/// The recorder of a container's terminal exec (runtime/recorder.h), after the handover.
SandboxProfile RuntimeRecorderProfile();

/// ttyaudit-rec, the recorder of `ttyaudit rec`, once the shell is forked.
SandboxProfile RecProfile();

/// ttyaudit-uploader, once its config, store and spool are open.
SandboxProfile UploaderProfile();

/// ttyaudit-tracker, the node's hub, once its event source is loaded and its socket listens.
SandboxProfile TrackerHubProfile();

/// `ttyaudit serve`, once its socket is bound and its token and TLS key are read.
SandboxProfile ServeProfile();

}  // namespace ttyaudit
