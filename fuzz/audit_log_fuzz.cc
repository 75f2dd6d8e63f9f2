// A Kubernetes API server's audit log (cli/correlate.h: ReadK8sExecRequests): JSON lines whose
// user, URI and user agent the API's clients choose.
#include "cli/correlate.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  FILE* f = fuzz::Stream(data, size);
  if (f == nullptr) return 0;
  AuditScanStats stats;
  auto requests = ReadK8sExecRequests(f, &stats);
  fclose(f);
  fuzz::Check(requests.ok(), "reading from memory never fails");
  fuzz::Check(stats.bytes == size, "every byte is read");
  fuzz::Check(stats.malformed <= stats.parsed && stats.parsed <= stats.lines + 1,
              "the counts add up");
  for (const K8sExecRequest& r : *requests) {
    JsonWriter w;
    WriteK8sIdentityJson(w, r, 0.5);
  }
  (void)ParseQuery(fuzz::Text(data, size));
  return 0;
}
