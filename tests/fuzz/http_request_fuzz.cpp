// libFuzzer target: the HTTP request parser, the upgrade handshake and request-target
// normalisation, fed at arbitrary splits, as one connection would see them.
#include <cstdlib>

#include "protocol/handshake.h"
#include "protocol/http_request_parser.h"
#include "protocol/request_target.h"
#include "tests/fuzz/fuzz_input.h"

using namespace skirmish::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  HttpRequestParser parser(HttpLimits{});
  HandshakePolicy policy{{"http://a.example"}, {"skirmish.v1"}};
  bool failed = false;
  skirmish::fuzz::feed_in_pieces(data, size, [&](const std::uint8_t* p, std::size_t n) {
    const char* bytes = reinterpret_cast<const char*>(p);
    while (n > 0 && !failed) {
      std::size_t used = 0;
      const auto status = parser.feed(bytes, n, used);
      if (status == HttpRequestParser::Status::NeedMore) return;
      if (status == HttpRequestParser::Status::Error) {
        if (parser.error().status < 400 || parser.error().status > 599) std::abort();
        failed = true;
        return;
      }
      if (used > n) std::abort();
      HttpRequest& req = parser.request();
      if (auto path = normalize_path(req.target)) {
        if (path->find("/../") != std::string::npos || path->ends_with("/..")) std::abort();
        if (path->find('\0') != std::string::npos || path->find('\\') != std::string::npos) std::abort();
      }
      if (wants_websocket(req)) {
        auto verdict = parse_upgrade(req, policy);
        if (auto* reject = std::get_if<HttpReject>(&verdict); reject && (reject->status < 400 || reject->status > 499)) {
          std::abort();
        }
      }
      bytes += used;
      n -= used;
      parser.reset();
    }
  });
  return 0;
}
