#include "oci-hook/hook.h"

#include <signal.h>

namespace ttyaudit {

HookOutcome RunHookStage(std::string_view stage, std::string_view state_json,
                         const HookContext& ctx) {
  HookOutcome out;
  auto state = ParseHookState(state_json);
  if (!state) {
    out.status = Error{std::string(stage) + ": " + state.message()};
    // No state, so no namespace: only a policy closed everywhere applies.
    out.block = FailClosed(ctx.fail_policy, kNoNamespace);
    return out;
  }
  out.container_id = state->id;
  if (stage == "createRuntime" || stage == "createContainer" || stage == "prestart" ||
      stage == "poststart") {
    ContainerMeta m = ContainerMetaFromState(*state);
    if (auto s = SaveContainerMeta(ctx.run_dir, m); !s) {
      out.status = Error{std::string(stage) + " " + state->id + ": " + s.message()};
      out.block = FailClosed(ctx.fail_policy, m.k8s_namespace);
    }
    return out;
  }
  if (stage == "poststop") {
    auto sealed = SealContainerSessions(ctx.run_dir, state->id, SIGTERM);
    if (sealed) out.sessions_sealed = *sealed;
    Status removed = RemoveContainerMeta(ctx.run_dir, state->id);
    if (!sealed)
      out.status = Error{"poststop " + state->id + ": " + sealed.message()};
    else if (!removed)
      out.status = Error{"poststop " + state->id + ": " + removed.message()};
    return out;  // the container is gone: nothing left to block
  }
  out.status =
      Error{"unknown hook stage `" + std::string(stage) + "` (want createRuntime or poststop)"};
  return out;
}

}  // namespace ttyaudit
