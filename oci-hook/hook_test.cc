#include "oci-hook/hook.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ttyaudit {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/ttyaudit-hook-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

const char* kCriState = R"({"ociVersion":"1.0.2","id":"c0ffee","status":"creating","pid":1,
  "bundle":"/run/containerd/io.containerd.runtime.v2.task/k8s.io/c0ffee",
  "annotations":{"io.kubernetes.cri.container-type":"container",
  "io.kubernetes.cri.sandbox-namespace":"payments","io.kubernetes.cri.sandbox-name":"api-7d9",
  "io.kubernetes.cri.sandbox-uid":"u-1","io.kubernetes.cri.container-name":"app",
  "io.kubernetes.cri.image-name":"registry.local/app:1.2","io.kubernetes.cri.sandbox-id":"s1"}})";

}  // namespace

TEST_CASE("hook: createRuntime saves the container's Kubernetes metadata for recorders") {
  std::string dir = TempDir();
  HookContext ctx{dir, {}};
  HookOutcome out = RunHookStage("createRuntime", kCriState, ctx);
  REQUIRE(out.status.ok());
  CHECK_FALSE(out.block);
  auto m = LoadContainerMeta(dir, "c0ffee");
  REQUIRE(m.ok());
  CHECK(m->runtime == "kubernetes-cri");
  CHECK(m->k8s_namespace == "payments");
  CHECK(m->pod == "api-7d9");
  CHECK(m->pod_uid == "u-1");
  CHECK(m->container == "app");
  CHECK(m->image == "registry.local/app:1.2");
  CHECK(m->sandbox_id == "s1");
  CHECK(m->pid == 1);
  CHECK_FALSE(m->cgroup.empty());
  CHECK(m->annotations.size() == 7);
  std::string rm = "rm -rf " + dir;
  CHECK(system(rm.c_str()) == 0);
}

TEST_CASE("hook: poststop signals the container's open recorders and removes the metadata") {
  std::string dir = TempDir();
  HookContext ctx{dir, {}};
  REQUIRE(RunHookStage("createRuntime", kCriState, ctx).status.ok());
  // posix_spawn: the child never runs with doctest's signal handlers (glibc blocks signals
  // until they are reset), so SIGTERM ends it plainly.
  pid_t child = -1;
  char sleep_arg0[] = "sleep", sleep_arg1[] = "30";
  char* sleep_argv[] = {sleep_arg0, sleep_arg1, nullptr};
  REQUIRE(posix_spawn(&child, "/bin/sleep", nullptr, nullptr, sleep_argv, environ) == 0);
  REQUIRE(RegisterSession(dir, "c0ffee", "sess-1", child).ok());
  REQUIRE(RegisterSession(dir, "c0ffee", "sess-gone", 999999).ok());  // a recorder long gone
  HookOutcome out = RunHookStage("poststop", R"({"id":"c0ffee","status":"stopped","pid":0})", ctx);
  CHECK(out.status.ok());
  CHECK(out.sessions_sealed == 1);
  int st = 0;
  REQUIRE(waitpid(child, &st, 0) == child);
  CHECK(WIFSIGNALED(st));
  CHECK(WTERMSIG(st) == SIGTERM);
  CHECK_FALSE(LoadContainerMeta(dir, "c0ffee").ok());
  struct stat sb;
  CHECK(stat((dir + "/sessions/c0ffee").c_str(), &sb) != 0);
  std::string rm = "rm -rf " + dir;
  CHECK(system(rm.c_str()) == 0);
}

TEST_CASE("hook: a failure blocks the container only when fail-closed applies to it") {
  HookContext ctx{"/proc/no-such-dir/run", {false, {"payments"}}};
  HookOutcome out = RunHookStage("createRuntime", kCriState, ctx);
  CHECK_FALSE(out.status.ok());
  CHECK(out.block);  // payments is a fail-closed namespace
  ctx.fail_policy.namespaces = {"other"};
  out = RunHookStage("createRuntime", kCriState, ctx);
  CHECK_FALSE(out.status.ok());
  CHECK_FALSE(out.block);
  out = RunHookStage("createRuntime", "not json", ctx);
  CHECK_FALSE(out.status.ok());
  CHECK_FALSE(out.block);  // no state, no namespace: a namespace list does not apply
  ctx.fail_policy.all = true;
  out = RunHookStage("createRuntime", "not json", ctx);
  CHECK_FALSE(out.status.ok());
  CHECK(out.block);
}

}  // namespace ttyaudit
