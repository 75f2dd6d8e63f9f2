#include "config/fail_policy.h"

#include <doctest/doctest.h>

#include <string>

using namespace ttyaudit;

TEST_CASE("fail policy: the default is open for every scope") {
  FailPolicy open;
  CHECK_FALSE(FailClosed(open, "prod"));
  CHECK_FALSE(FailClosed(open, kNoNamespace));
  CHECK_FALSE(FailClosed(open, kNamespaceUnknown));
}

TEST_CASE("fail policy: closed everywhere refuses every scope") {
  FailPolicy all{true, {}};
  CHECK(FailClosed(all, "prod"));
  CHECK(FailClosed(all, kNoNamespace));
  CHECK(FailClosed(all, kNamespaceUnknown));
}

TEST_CASE("fail policy: a namespace list refuses those namespaces and an unknown one only") {
  FailPolicy some{false, {"payments", "kube-system"}};
  std::string ns = "payments";
  CHECK(FailClosed(some, ns));
  CHECK(FailClosed(some, "kube-system"));
  CHECK_FALSE(FailClosed(some, "default"));
  CHECK_FALSE(FailClosed(some, "payment"));  // names match whole, not by prefix
  // A host shell or a container outside Kubernetes is in no namespace of the list.
  CHECK_FALSE(FailClosed(some, kNoNamespace));
  CHECK_FALSE(FailClosed(some, ""));
  // The front cannot tell the exec's namespace: it may be one of the list.
  CHECK(FailClosed(some, kNamespaceUnknown));
}

TEST_CASE("fail policy: an empty list is open, as `false` is") {
  FailPolicy empty{false, {}};
  CHECK(empty == FailPolicy{});
  CHECK_FALSE(FailClosed(empty, kNamespaceUnknown));
}
