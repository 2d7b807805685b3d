#include "watchers/service_unit.h"

#include <openssl/evp.h>

#include <string_view>

namespace specd {
namespace {

// The first 8 hex characters of SHA-256(path): what tells two repositories
// with the same base name apart in a unit's name. Installed unit names must
// never change, so this stays SHA-256 (OpenSSL's), whatever the journal uses.
std::string PathDigest8(const std::string& path) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(path.data(), path.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 4 && i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

bool SafeNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

Status CheckUnitPath(std::string_view what, const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Error{std::string(what) + " is not an absolute path: " + path};
  }
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) {
      return Error{std::string(what) + " holds a control character, which a unit file cannot carry: " + path};
    }
  }
  // systemd strips a setting's trailing whitespace and reads a trailing
  // backslash as a line continuation: such a path would not come back.
  if (char last = path.back(); last == ' ' || last == '\\') {
    return Error{std::string(what) +
                 " ends with a space or a backslash, which a unit file cannot carry: " + path};
  }
  return Status::Ok();
}

// Quotes one word of a command line; `dollars`: double '$' too (arguments
// get $VAR expansion, the executable does not).
std::string QuoteExec(const std::string& word, bool dollars) {
  bool quote = word.empty();
  std::string body;
  for (char c : word) {
    switch (c) {
      case '%':
        body += "%%";
        break;
      case '$':
        body += dollars ? "$$" : "$";
        break;
      case '\\':
      case '"':
        quote = true;
        body += '\\';
        body += c;
        break;
      case ' ':
      case '\t':
      case '\'':
      case ';':
        quote = true;
        body += c;
        break;
      default:
        body += c;
    }
  }
  return quote ? "\"" + body + "\"" : body;
}

}  // namespace

std::string ServiceUnitName(const std::string& repo_root) {
  std::string_view root = repo_root;
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  std::string_view base = root.substr(root.rfind('/') + 1);
  std::string name;
  for (char c : base.substr(0, 64)) name += SafeNameByte(c) ? c : '_';
  if (name.empty()) name = "root";
  return "specd-watch-" + name + "-" + PathDigest8(repo_root) + ".service";
}

std::string EscapeSpecifiers(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%') out += '%';
    out += c;
  }
  return out;
}

std::string QuoteExecArgument(const std::string& word) {
  return QuoteExec(word, true);
}
std::string QuoteExecPath(const std::string& path) {
  return QuoteExec(path, false);
}

Result<std::string> ServiceUnitText(const std::string& specd_binary, const std::string& repo_root) {
  if (Status s = CheckUnitPath("the specd binary", specd_binary); !s.ok()) return s.error();
  if (specd_binary.find_first_of("\"'\\") != std::string::npos) {
    return Error{
        "the specd binary's path holds a quote or a backslash, which systemd refuses in ExecStart: " +
        specd_binary};
  }
  if (Status s = CheckUnitPath("the repository", repo_root); !s.ok()) return s.error();
  // clang-format off
  return "# Written by `specd service install`; `specd service uninstall` removes it.\n"
         "[Unit]\n"
         "Description=specd watch for " + EscapeSpecifiers(repo_root) + "\n"
         "\n"
         "[Service]\n"
         "Type=notify\n"
         "NotifyAccess=main\n"
         "ExecStart=" + QuoteExecPath(specd_binary) + " watch --repo " + QuoteExecArgument(repo_root) + "\n"
         "WorkingDirectory=" + EscapeSpecifiers(repo_root) + "\n"
         "Restart=on-failure\n"
         "RestartSec=2\n"
         "WatchdogSec=30\n"
         "TimeoutStopSec=30\n"
         "\n"
         "[Install]\n"
         "WantedBy=default.target\n";
  // clang-format on
}

}  // namespace specd
