// Docker's config.v2.json (runtime/exec_meta.h: ParseDockerConfig), read for a container's name
// and image: dockerd writes it from the create request of whoever can reach its API, and the
// name and image then go into the session's metadata and its object keys.
#include "fuzz/fuzz_input.h"
#include "record/session_meta_read.h"
#include "runtime/exec_meta.h"
#include "store/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  auto c = ParseDockerConfig(fuzz::Text(data, size));
  if (!c) return 0;
  // As ApplyDockerConfig uses it, in a session of a Docker container.
  SessionMeta m;
  m.source = "runtime";
  m.runtime = "docker";
  m.id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  m.start_ns = 1764000000000000000;
  m.container_id = "3f6c0a9b1e2d";
  m.container = c->name;
  m.image = c->image;
  // What the recorder writes (the manifest, the index entry) reads back as Docker named it.
  auto back = ParseSessionMeta(m.ToJson());
  fuzz::Check(back.ok(), "a session with Docker's name and image parses");
  fuzz::Check(back->container == m.container && back->image == m.image,
              "Docker's name and image read back unchanged");
  // And the name, a component of the session's keys, keeps them in the session's place.
  fuzz::CheckKeyShape(SessionKey(m), "sessions/", 5);
  fuzz::CheckKeyShape(IndexKey(m), "index/", 3);
  return 0;
}
