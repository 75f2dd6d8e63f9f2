// The fail-open / fail-closed decision: whether something that cannot be recorded is refused
// rather than run unrecorded. Every binary that records decides it here: the runtime's front and
// the full runtime (an exec), ttyaudit-hook (a container whose metadata cannot be saved) and
// `ttyaudit rec` (a host shell). The config's `fail_closed` sets the policy (config/config.h;
// config/runc_config.h for the front's reading of it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ttyaudit {

struct FailPolicy {
  bool all = false;                     // `"fail_closed": true`: closed everywhere
  std::vector<std::string> namespaces;  // `"fail_closed": ["ns", ...]`: closed in these only

  bool operator==(const FailPolicy&) const = default;
};

/// The Kubernetes namespace of what cannot be recorded, as far as the caller can tell: a name,
/// kNoNamespace (a host shell, a container outside Kubernetes, one whose state could not be
/// read), or kNamespaceUnknown (the runtime's front, which reads no bundle, or the runtime when
/// the config cannot be read in full).
using NamespaceScope = std::optional<std::string_view>;
inline constexpr NamespaceScope kNoNamespace = std::string_view();
inline constexpr NamespaceScope kNamespaceUnknown = std::nullopt;

/// True when what cannot be recorded in `ns` must be refused (fail-closed), false when it runs
/// unrecorded (fail-open, logged by the caller). Closed everywhere closes every scope; a list of
/// namespaces closes those namespaces, and an unknown namespace, which may be one of them.
bool FailClosed(const FailPolicy& policy, NamespaceScope ns);

}  // namespace ttyaudit
