// ttyaudit-runtime-full: the runtime for the runc calls that need more than a pass-through
// (exec, create), which the front, ttyaudit-runtime, execs. See runtime/runtime.h and
// runtime/front.h.
#include <cstdio>
#include <string>
#include <vector>

#include "base/version.h"
#include "runtime/runtime.h"

int main(int argc, char** argv) {
  // The front passes it only exec and create; runc's own --version goes to runc.
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::printf("ttyaudit-runtime-full %s\n", ttyaudit::Version());
    return 0;
  }
  return ttyaudit::RuntimeMain(std::vector<std::string>(argv, argv + argc));
}
