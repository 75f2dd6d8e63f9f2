// `ttyaudit serve`: a read-only web viewer of the sessions of a store (an S3 bucket, or a local
// archive plus this node's spool): the list with every filter of `search`, the bucket's layout
// with counts, the replay page (player, metadata, command timeline, download) and running
// sessions live. The pages and the player are built into the binary (cli/web_assets.h).
//
// Everything is set up before the first request is read, in one place (PrepareServe): the
// token read, the TLS certificate and key loaded, the socket bound. What the request loop opens
// later: the store (its HTTP connections), the catalog's SQLite file in the cache directory and,
// for a local store or the spool, the sessions' files; it writes only the catalog cache.
#pragma once

#include <string>

#include "config/config.h"

namespace ttyaudit {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  std::string token_file;                 // required for any address but loopback
  std::string cert, key;                  // both: HTTPS
};

/// Serves until killed. Prints "ttyaudit serve: listening on URL" on stderr once the socket is
/// bound. Returns 2 for options it refuses (a non-loopback address without --token-file, a
/// token too short, a certificate that does not load), 1 when the address cannot be bound.
int RunServe(const ServeOptions& opts, const std::string& store_url, const Config& cfg);

}  // namespace ttyaudit
