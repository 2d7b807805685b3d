#include "schema/validate.h"

#include <algorithm>

#include "schema/source_text.h"
#include "schema/spec_rules.h"
#include "schema/spec_schema.h"

namespace specd {

namespace {

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

Diagnostic Place(const SourceText& source, const std::string& file, const Finding& f) {
  Diagnostic d;
  d.file = file;
  source.Position(f.offset, &d.line, &d.column);
  d.pointer = f.pointer;
  d.keyword = f.keyword;
  d.message = f.message;
  d.severity = f.severity;
  return d;
}

}  // namespace

std::string ExpectedSpecId(std::string_view path) {
  size_t slash = path.find_last_of('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (std::string_view ext : {".yaml", ".yml"}) {
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) {
      return std::string(name.substr(0, name.size() - ext.size()));
    }
  }
  return std::string(name);
}

Diagnostic FileTooLarge(const std::string& display_path, uint64_t size, size_t limit) {
  Diagnostic d;
  d.file = display_path;
  d.keyword = "limit";
  d.message = "the file is " + std::to_string(size) + " bytes; the limit is " + std::to_string(limit) +
              " (--max-bytes)";
  return d;
}

std::vector<Diagnostic> ValidateSpecText(std::string_view bytes, const std::string& display_path,
                                         const ValidateOptions& options) {
  Document doc;
  bool loaded = false;
  return ValidateSpecText(bytes, display_path, options, &doc, &loaded);
}

std::vector<Diagnostic> ValidateSpecText(std::string_view raw, const std::string& display_path,
                                         const ValidateOptions& options, Document* doc, bool* loaded) {
  DocumentKind kind;
  kind.schema = options.schema ? options.schema : &SpecSchema::Builtin();
  if (!options.syntax_only) {
    std::string id = ExpectedSpecId(display_path);
    kind.rules = [id](const Document& d, std::vector<Finding>* out) { CheckSpecRules(d, id, out); };
  } else {
    kind.schema = nullptr;
  }
  return ValidateDocumentText(raw, display_path, options, kind, doc, loaded);
}

std::vector<Diagnostic> ValidateDocumentText(std::string_view raw, const std::string& display_path,
                                             const ValidateOptions& options, const DocumentKind& kind,
                                             Document* doc, bool* loaded) {
  *loaded = false;
  // YAML takes a CR on its own as a line break; yaml-cpp 0.7 keeps it in the
  // scalar. Read it as the "\n" it is (same length: offsets stay true).
  std::string normalized;
  std::string_view bytes = raw;
  for (size_t i = raw.find('\r'); i != std::string_view::npos; i = raw.find('\r', i + 1)) {
    if (i + 1 < raw.size() && raw[i + 1] == '\n') continue;
    if (normalized.empty()) normalized.assign(raw);
    normalized[i] = '\n';
  }
  if (!normalized.empty()) bytes = normalized;
  SourceText source(bytes);
  auto one = [&](size_t offset, const char* keyword, std::string message) {
    return std::vector<Diagnostic>{
        Place(source, display_path, Finding{offset, "", keyword, std::move(message)})};
  };
  if (bytes.size() > options.limits.max_bytes) {
    return {FileTooLarge(display_path, bytes.size(), options.limits.max_bytes)};
  }
  if (auto bad = source.CheckEncoding()) {
    size_t body_offset = bad->offset - (bytes.size() - source.body().size());
    return one(body_offset, "encoding", bad->message);
  }
  constexpr char is_a[] = "; a spec is a mapping of fields";
  if (IsBlank(source.body())) {
    if (kind.empty_ok) return {};
    return one(0, "yaml-empty", std::string("the file is empty") + is_a);
  }
  Finding problem;
  if (!LoadYaml(source.body(), options.limits, doc, &problem, !options.reference_parser)) {
    if (problem.keyword == "yaml-empty") {
      if (kind.empty_ok) return {};
      problem.message = std::string("the file holds only comments") + is_a;
    }
    return {Place(source, display_path, problem)};
  }
  if (doc->root().kind == NodeKind::kNull && doc->root().offset >= source.body().size()) {
    if (kind.empty_ok) return {};
    *loaded = true;
    return one(0, "yaml-empty", std::string("the document is empty") + is_a);
  }
  *loaded = true;
  if (doc->root().kind != NodeKind::kMap) {
    return one(doc->root().offset, "type",
               "the document must be a mapping of " + kind.fields + ", not " + WithArticle(doc->root().kind));
  }
  if (!kind.schema) return {};
  std::vector<Finding> findings;
  kind.schema->Check(*doc, &findings);
  if (kind.rules) kind.rules(*doc, &findings);
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.offset < b.offset; });
  std::vector<Diagnostic> out;
  out.reserve(findings.size());
  for (const Finding& f : findings) out.push_back(Place(source, display_path, f));
  return out;
}

}  // namespace specd
