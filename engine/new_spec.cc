#include "engine/new_spec.h"

#include <cstdio>
#include <set>

#include "engine/engine.h"
#include "schema/validate.h"

namespace specd {

namespace {

std::string EscapeDoubleQuoted(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void ReplaceAll(std::string* text, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = text->find(from, pos)) != std::string::npos; pos += to.size()) {
    text->replace(pos, from.size(), to);
  }
}

// NNNs of spec-<date>-NNN files in `dir` and its subdirectories (one level).
void UsedNumbers(Env* env, const std::string& dir, const std::string& prefix, std::set<int>* used,
                 int depth = 0) {
  Result<std::vector<std::string>> names = env->ListDir(dir);
  if (!names.ok()) return;
  for (const std::string& n : *names) {
    if (n.rfind(prefix, 0) == 0 && n.size() >= prefix.size() + 3) {
      used->insert(std::atoi(n.substr(prefix.size(), 3).c_str()));
    } else if (depth == 0 && n.find('.') == std::string::npos) {
      UsedNumbers(env, dir + "/" + n, prefix, used, depth + 1);
    }
  }
}

}  // namespace

std::string FillTemplate(std::string text, const std::string& id, const std::string& title,
                         const std::string& author, const std::string& now) {
  ReplaceAll(&text, "{{id}}", id);
  ReplaceAll(&text, "{{title}}", EscapeDoubleQuoted(title));
  ReplaceAll(&text, "{{author}}", EscapeDoubleQuoted(author));
  ReplaceAll(&text, "{{now}}", now);
  return text;
}

Result<std::string> CreateSpec(Env* env, const std::string& root, const NewSpec& spec) {
  const std::string now = FormatTimestamp(env->NowMillis());
  const std::string prefix = "spec-" + now.substr(0, 10) + "-";
  const std::string active = root + "/.agents/specs/active";
  if (Status s = env->MakeDirs(active); !s.ok()) return s.error();
  std::set<int> used;
  UsedNumbers(env, active, prefix, &used);
  UsedNumbers(env, root + "/.agents/specs/archive", prefix, &used);
  int next = used.empty() ? 1 : *used.rbegin() + 1;
  for (; next <= 999; ++next) {
    char num[16];
    std::snprintf(num, sizeof num, "%03d", next);
    std::string id = prefix + num;
    std::string path = active + "/" + id + ".yaml";
    std::string text = FillTemplate(spec.template_text, id, spec.title, spec.author, now);
    std::vector<Diagnostic> diags = ValidateSpecText(text, id + ".yaml", ValidateOptions{});
    if (!diags.empty()) {
      std::string msg = "the new spec would not validate:";
      for (const Diagnostic& d : diags) msg += "\n" + FormatText(d);
      return Error{msg};
    }
    Status s = CreateFileExclusive(env, path, text);
    if (s.ok()) return path;
    if (s.error().code != ErrorCode::kConflict) return s.error();  // taken meanwhile: try the next
  }
  return Error{"no free spec id left for " + now.substr(0, 10)};
}

}  // namespace specd
