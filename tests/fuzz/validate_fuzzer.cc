// libFuzzer target over the whole of ValidateSpecText: encoding check, YAML
// loading with the SPEC_FORMAT.md rules, the JSON Schema and the spec rules.
//
// A first byte of 0x01 switches to the --syntax-only path and is dropped
// (0x01 is a control byte the encoding check refuses, so the switch takes
// nothing away from real inputs; libFuzzer's comparison tracing finds it).
//
// Besides "no crash, no leak, no hang" (the sanitizers and libFuzzer see to
// those), each run checks what every diagnostic promises (it names the file,
// a 1-based line and column inside the text, a JSON pointer and a message)
// and what a loaded document promises: aliases expanded, it is a tree (no
// node contains itself) no deeper than the depth limit. And the fast YAML
// path (yaml_fast.cc) must build exactly what yaml-cpp builds, or decline.
//
// To look past a known, saved bug in a long run, SPECD_FUZZ_SKIP in the
// environment names what not to report (comma-separated):
//   cyclic   inputs whose loaded document contains itself
//            (fixtures/fuzz-regressions/crash-364656c8.yaml)
//   lone-cr  the fast-path comparison for texts with a '\r' not followed by
//            '\n' (fixtures/fuzz-regressions/crash-e1d61b48.yaml, "a: 1\r")
//   question the fast-path comparison for texts with a '?' (the fast path
//            takes "- [o?]", yaml-cpp refuses it: crash-967dea65.yaml)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/validate.h"
#include "schema/yaml_tree.h"
#include "tests/tree_compare.h"

namespace {

constexpr char kDisplayName[] = "spec-2026-01-01-001.yaml";

[[noreturn]] void Broken(const char* what, const specd::Diagnostic& d) {
  std::fprintf(stderr, "validate_fuzzer: broken invariant (%s): %s\n", what, specd::FormatText(d).c_str());
  std::abort();
}

void CheckDiagnostics(std::string_view text, const std::vector<specd::Diagnostic>& diags) {
  int lines = 1;  // "\n", "\r\n" and a lone "\r" each end a line
  for (size_t i = 0; i < text.size(); ++i) {
    lines += text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'));
  }
  for (const specd::Diagnostic& d : diags) {
    if (d.file != kDisplayName) Broken("file", d);
    if (d.line < 1 || d.line > lines) Broken("line", d);
    if (d.column < 1) Broken("column", d);
    if (!d.pointer.empty() && d.pointer[0] != '/') Broken("pointer", d);
    if (d.message.empty()) Broken("message", d);
    if (d.keyword.empty()) Broken("keyword", d);
    (void)specd::FormatText(d);
  }
}

// Height of the subtree at `id` (scalars 0, each mapping or list 1 more than
// its highest child); -1 when the subtree reaches one of its own ancestors.
int Height(const specd::Document& doc, specd::NodeId id, std::vector<int8_t>* state,
           std::vector<int>* height) {
  // state: 0 unseen, 1 on the current path, 2 done. Iterative: a cycle or a
  // deep document must not overflow the harness's own stack.
  struct Step {
    specd::NodeId id;
    size_t next;
  };
  std::vector<Step> stack{{id, 0}};
  (*state)[id] = 1;
  while (!stack.empty()) {
    Step& s = stack.back();
    const specd::Node& n = doc.node(s.id);
    size_t count = n.kind == specd::NodeKind::kMap ? n.entries.size() : n.items.size();
    if (s.next == count) {
      int h = n.is_scalar() ? 0 : 1;
      for (size_t i = 0; i < count; ++i) {
        specd::NodeId c = n.kind == specd::NodeKind::kMap ? n.entries[i].value : n.items[i];
        h = std::max(h, (*height)[c] + 1);
      }
      (*height)[s.id] = h;
      (*state)[s.id] = 2;
      stack.pop_back();
      continue;
    }
    specd::NodeId c = n.kind == specd::NodeKind::kMap ? n.entries[s.next].value : n.items[s.next];
    ++s.next;
    if ((*state)[c] == 1) return -1;
    if ((*state)[c] == 0) {
      (*state)[c] = 1;
      stack.push_back(Step{c, 0});
    }
  }
  return (*height)[id];
}

// Checks a loaded document; false when it contains itself.
bool CheckDocument(const specd::Document& doc, const specd::LoadLimits& limits) {
  if (doc.empty()) return true;
  std::vector<int8_t> state(doc.size(), 0);
  std::vector<int> height(doc.size(), 0);
  // Find the root's id: the node whose address is root().
  specd::NodeId root = static_cast<specd::NodeId>(&doc.root() - &doc.node(0));
  int h = Height(doc, root, &state, &height);
  if (h < 0) return false;
  if (h > limits.max_depth) {
    std::fprintf(stderr, "validate_fuzzer: broken invariant: document %d deep, limit %d\n", h,
                 limits.max_depth);
    std::abort();
  }
  return true;
}

bool Skipping(std::string_view what) {
  static const std::string skip = [] {
    const char* v = std::getenv("SPECD_FUZZ_SKIP");
    return "," + std::string(v ? v : "") + ",";
  }();
  return skip.find("," + std::string(what) + ",") != std::string::npos;
}

bool HasLoneCr(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  specd::ValidateOptions options;
  if (!text.empty() && text[0] == '\x01') {
    options.syntax_only = true;
    text.remove_prefix(1);
  }
  std::vector<specd::Diagnostic> syntax_diags;
  {
    // The loader alone first: a document that contains itself would send
    // the schema check (which turns the tree into JSON) into endless
    // recursion, so report it here, where it happens.
    specd::ValidateOptions syntax = options;
    syntax.syntax_only = true;
    specd::Document doc;
    bool loaded = false;
    std::vector<specd::Diagnostic> d = specd::ValidateSpecText(text, kDisplayName, syntax, &doc, &loaded);
    CheckDiagnostics(text, d);
    if (loaded && !CheckDocument(doc, syntax.limits)) {
      if (Skipping("cyclic")) return 0;
      std::fprintf(stderr,
                   "validate_fuzzer: broken invariant: the loaded document contains itself "
                   "(%zu diagnostics)\n",
                   d.size());
      std::abort();
    }
    std::string_view body = text.substr(0, 3) == "\xEF\xBB\xBF" ? text.substr(3) : text;
    if ((d.empty() || d[0].keyword != "encoding") && !(Skipping("lone-cr") && HasLoneCr(body)) &&
        !(Skipping("question") && body.find('?') != std::string_view::npos)) {
      std::string why = specd::testing::FastPathDisagreement(body, syntax.limits);
      if (!why.empty()) {
        std::fprintf(stderr, "validate_fuzzer: the fast YAML path disagrees with yaml-cpp: %s\n",
                     why.c_str());
        std::abort();
      }
    }
    if (options.syntax_only) return 0;
    syntax_diags = std::move(d);
  }
  std::vector<specd::Diagnostic> diags = specd::ValidateSpecText(text, kDisplayName, options);
  CheckDiagnostics(text, diags);
  // The schema and the spec rules only add findings: a file that passes the
  // full check passes the syntax-only one.
  bool has_error = false;
  for (const specd::Diagnostic& d : diags) has_error |= d.severity == specd::Severity::kError;
  if (!has_error && !syntax_diags.empty())
    Broken("syntax-only finds what the full check did not", syntax_diags[0]);
  return 0;
}
