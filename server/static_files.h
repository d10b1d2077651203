// The web demo's files, from the binary (the default) or from a folder (--web-root).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "protocol/http_types.h"

namespace skirmish::server {

struct StaticFile {
  std::string body;
  std::string content_type;
  std::string etag;  // quoted, strong: a hash of the bytes
};

class StaticFiles {
 public:
  // Serves the files embedded at build time; they are indexed and hashed once, here.
  static StaticFiles embedded();
  // Serves files read from `root` at request time, so edits show without a rebuild.
  static StaticFiles from_directory(std::string root);

  // `path` must come from protocol::normalize_path. A path ending in '/' means its
  // index.html. Returns nullptr when there is no such regular file inside the root.
  std::shared_ptr<const StaticFile> find(const std::string& path) const;

  // The response for GET/HEAD of `path`: 200, 304 for a matching If-None-Match, or 404.
  protocol::HttpResponse respond(const std::string& path, const protocol::HttpRequest& request) const;

 private:
  std::shared_ptr<const StaticFile> read_from_disk(const std::string& path) const;

  std::string root_;  // empty for embedded
  std::map<std::string, std::shared_ptr<const StaticFile>> files_;
};

// "text/html; charset=utf-8" for "x.html", and so on; application/octet-stream when unknown.
const char* content_type_for(const std::string& path);

}  // namespace skirmish::server
