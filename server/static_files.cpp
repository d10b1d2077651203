#include "server/static_files.h"

#include <sys/stat.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "protocol/header_text.h"
#include "server/embedded_file.h"

namespace skirmish::server {

namespace {

// FNV-1a 64: an ETag only has to change when the bytes do.
std::string etag_of(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "\"%016llx-%zx\"", static_cast<unsigned long long>(h), bytes.size());
  return buf;
}

std::shared_ptr<const StaticFile> make_file(const std::string& path, std::string body) {
  auto f = std::make_shared<StaticFile>();
  f->etag = etag_of(body);
  f->content_type = content_type_for(path);
  f->body = std::move(body);
  return f;
}

std::string index_path(const std::string& path) {
  return !path.empty() && path.back() == '/' ? path + "index.html" : path;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// True when If-None-Match (a list of ETags, or "*") names this ETag; weak or strong.
// If-None-Match (RFC 9110 13.1.2): a list of entity tags, compared weakly, or "*"; its
// elements are trimmed of spaces and tabs alike (any_list_item).
bool etag_matches(const std::string& header, const std::string& etag) {
  return protocol::any_list_item(header, [&](std::string_view item) {
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    return item == "*" || item == etag;
  });
}

}  // namespace

const char* content_type_for(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},              {".svg", "image/svg+xml"},
      {".png", "image/png"},                      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},      {".webmanifest", "application/manifest+json"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (ends_with(path, ext)) return type;
  }
  return "application/octet-stream";
}

StaticFiles StaticFiles::embedded() {
  StaticFiles s;
  for (std::size_t i = 0; i < kWebFiles_count; ++i) {
    const std::string path(kWebFiles[i].path);
    s.files_[path] = make_file(path, std::string(kWebFiles[i].data));
  }
  return s;
}

StaticFiles StaticFiles::from_directory(std::string root) {
  StaticFiles s;
  char resolved[PATH_MAX];
  s.root_ = realpath(root.c_str(), resolved) ? resolved : root;
  return s;
}

std::shared_ptr<const StaticFile> StaticFiles::read_from_disk(const std::string& path) const {
  const std::string joined = root_ + path;
  // Resolve links too: a symlink inside the root must not lead outside it.
  char resolved[PATH_MAX];
  if (!realpath(joined.c_str(), resolved)) return nullptr;
  const std::string real(resolved);
  if (real.compare(0, root_.size(), root_) != 0 || real.size() <= root_.size() || real[root_.size()] != '/') {
    return nullptr;
  }
  struct stat st {};
  if (stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  std::ifstream in(real, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream body;
  body << in.rdbuf();
  return make_file(path, body.str());
}

std::shared_ptr<const StaticFile> StaticFiles::find(const std::string& path) const {
  const std::string p = index_path(path);
  if (!root_.empty()) return read_from_disk(p);
  const auto it = files_.find(p);
  return it == files_.end() ? nullptr : it->second;
}

namespace {

// The decoded path, as a 404 names it back: a byte that is not printable ASCII, or that markup
// could read ('<', '>', '&', quotes), escaped again as %XX, so what the client sent comes back
// as valid UTF-8 that nothing would take for a page.
std::string printable_path(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '&' && c != '"' && c != '\'' && c != '`' && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

protocol::HttpResponse StaticFiles::respond(const std::string& path, const protocol::HttpRequest& request) const {
  protocol::HttpResponse r;
  r.keep_alive = request.keep_alive;
  r.head_only = request.method == "HEAD";
  const auto file = find(path);
  if (!file) {
    r.status = 404;
    r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
    r.headers.push_back({"X-Content-Type-Options", "nosniff"});
    r.body = "404 Not Found: " + printable_path(path) + "\n";
    return r;
  }
  r.headers.push_back({"ETag", file->etag});
  // Not fingerprinted, so always revalidate: the ETag makes that a cheap 304.
  r.headers.push_back({"Cache-Control", "no-cache"});
  if (const std::string* inm = request.header("if-none-match"); inm && etag_matches(*inm, file->etag)) {
    r.status = 304;
    return r;
  }
  r.headers.push_back({"Content-Type", file->content_type});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.body = file->body;
  return r;
}

}  // namespace skirmish::server
