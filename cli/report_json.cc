#include "cli/report_json.h"

#include <nlohmann/json.hpp>

namespace specd::cli {

namespace {

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kValid:
      return "valid";
    case Outcome::kInvalid:
      return "invalid";
    case Outcome::kSkipped:
      return "skipped";
    case Outcome::kUnreadable:
      return "unreadable";
  }
  return "?";
}

}  // namespace

std::string ReportJson(const ValidateReport& report) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const FileResult& f : report.files) {
    nlohmann::ordered_json diags = nlohmann::ordered_json::array();
    for (const Diagnostic& d : f.diagnostics) {
      diags.push_back({{"file", d.file},
                       {"line", d.line},
                       {"column", d.column},
                       {"pointer", d.pointer},
                       {"keyword", d.keyword},
                       {"message", d.message},
                       {"severity", d.severity == Severity::kError ? "error" : "warning"}});
    }
    files.push_back({{"path", f.path}, {"outcome", OutcomeName(f.outcome)}, {"diagnostics", diags}});
  }
  nlohmann::ordered_json doc = {
      {"files", files},
      {"summary",
       {{"files", report.checked()},
        {"valid", report.valid},
        {"invalid", report.invalid},
        {"unreadable", report.unreadable},
        {"skipped", report.skipped}}},
  };
  // Bad UTF-8 cannot reach here (files with it fail before their text is
  // quoted), but replace rather than throw if it ever does.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace specd::cli
