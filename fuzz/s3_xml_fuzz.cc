// S3's XML responses (store/s3_client.h): the bucket's server writes them (any S3-compatible
// server, or whoever sits between), and listings carry keys that others may have written.
#include "fuzz/fuzz_input.h"
#include "store/s3_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  std::string_view xml = fuzz::Text(data, size);
  (void)ParseS3Error(xml);
  // Entities only shrink: what a tag holds is never longer than the response.
  for (const char* tag : {"Code", "Message", "Key", "UploadId"}) {
    auto text = XmlTagText(xml, tag);
    fuzz::Check(!text || text->size() <= xml.size(), "a tag's text comes from the response");
  }
  auto page = ParseListObjectsV2(xml);
  if (page) {
    for (const ObjectInfo& o : page->objects)
      fuzz::Check(o.key.size() <= xml.size(), "a listed key comes from the response");
  }
  return 0;
}
