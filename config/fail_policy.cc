#include "config/fail_policy.h"

#include <algorithm>

namespace ttyaudit {

bool FailClosed(const FailPolicy& policy, NamespaceScope ns) {
  if (policy.all) return true;
  if (!ns) return !policy.namespaces.empty();
  if (ns->empty()) return false;
  return std::find(policy.namespaces.begin(), policy.namespaces.end(), *ns) !=
         policy.namespaces.end();
}

}  // namespace ttyaudit
