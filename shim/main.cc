// ttyaudit-runtime: a runc stand-in that records terminal execs. See shim/runtime.h.
#include <string>
#include <vector>

#include "shim/runtime.h"

int main(int argc, char** argv) {
  return ttyaudit::RuntimeMain(std::vector<std::string>(argv, argv + argc));
}
