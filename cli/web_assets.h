// The viewer's files (web/ and the player and terminal from npm), built into the binary by
// cmake/embed_web.cmake: serve answers from these and reads no file at run time.
#pragma once

#include <string_view>

namespace ttyaudit {

struct WebAsset {
  std::string_view path;          // the URL path: "/", "/session.html", "/assets/app.css", ...
  std::string_view content_type;  // with charset for text
  std::string_view bytes;
};

/// The asset served at `path`, or nullptr.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace ttyaudit
