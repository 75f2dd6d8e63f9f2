// ttyaudit-runtime-full: the runtime for the runc calls that need more than a pass-through
// (exec, create), which the front, ttyaudit-runtime, execs. See shim/runtime.h and shim/front.h.
#include <string>
#include <vector>

#include "shim/runtime.h"

int main(int argc, char** argv) {
  return ttyaudit::RuntimeMain(std::vector<std::string>(argv, argv + argc));
}
