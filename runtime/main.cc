// ttyaudit-runtime-full: the runtime for the runc calls that need more than a pass-through
// (exec, create), which the front, ttyaudit-runtime, execs. See runtime/runtime.h and runtime/front.h.
#include <string>
#include <vector>

#include "runtime/runtime.h"

int main(int argc, char** argv) {
  return ttyaudit::RuntimeMain(std::vector<std::string>(argv, argv + argc));
}
