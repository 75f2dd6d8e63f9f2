// The shared JSON decoder (base/json_read.h) with every kind of member reader, as each file
// format's decoder uses them, strict (the config) and lenient (state files).
#include "base/json_read.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  for (JsonUnknownKeys unknown : {JsonUnknownKeys::kSkip, JsonUnknownKeys::kReject}) {
    JsonObjectText text;
    if (!text.Open(fuzz::Text(data, size), "fuzz")) return 0;
    std::string s;
    bool b = false;
    double d = 0;
    int8_t i8 = 0;
    int64_t i64 = 0;
    uint16_t u16 = 0;
    uint64_t u64 = 0;
    std::vector<std::pair<std::string, std::string>> map;
    std::vector<std::string> list;
    std::string each_s;
    size_t elements = 0;
    Status st = DecodeJsonObject(
        text.object(), JsonPlace("fuzz"),
        {{"s", JsonString(s)},
         {"b", JsonBool(b)},
         {"d", JsonNumber(d)},
         {"i8", JsonInteger(i8)},
         {"i64", JsonInteger(i64)},
         {"u16", JsonInteger(u16)},
         {"u64", JsonInteger(u64)},
         {"map", JsonStringMap(map)},
         {"list", JsonStringArray(list)},
         {"o", JsonObjectOf({{"s", JsonString(s)}, {"n", JsonInteger(i64)}}, unknown)},
         {"a", JsonArrayOfObjects(
                   [&] {
                     return std::vector<JsonField>{{"s", JsonString(each_s)}};
                   },
                   [&] { ++elements; }, unknown)}},
        unknown);
    if (st) (void)text.AtEnd();
    fuzz::Check(elements <= size, "every element read takes a byte");
  }
  return 0;
}
