// specd new --template NAME --title TEXT [--author NAME]: a new spec under
// the next free id of the day; prints its path.
#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "cli/templates.h"
#include "engine/new_spec.h"
#include "engine/spec_files.h"

namespace specd::cli {

namespace {

struct NewArgs {
  RepoOptions repo;
  std::string template_name = "feature";
  std::string title;
  std::string author;
};

// The repository's own template first, then the built-in one.
std::optional<std::string> FindTemplate(const std::string& root, const std::string& name) {
  // Read by the spec files' rules: never a symlink out of the repository or a FIFO.
  Result<FileBytes> own =
      ReadRepoSpecFile(root + "/.agents/specs/templates/" + name + ".yaml", root, size_t{1} << 20);
  if (own.ok() && !own->too_large) return own->data;
  for (const BuiltinTemplate& t : kBuiltinTemplates) {
    if (t.name == name) return std::string(t.text);
  }
  return std::nullopt;
}

int RunNew(const NewArgs& a) {
  std::unique_ptr<Context> ctx = OpenContext(a.repo);
  if (!ctx) return kExitUsage;
  std::optional<std::string> text = FindTemplate(ctx->root, a.template_name);
  if (!text) {
    std::fprintf(
        stderr,
        "specd new: no template '%s' (in .agents/specs/templates/ or built in: feature, fix, refactor)\n",
        a.template_name.c_str());
    return kExitUsage;
  }
  std::string author = a.author.empty() ? ActorName(a.repo, ctx->root) : a.author;
  Result<std::string> path = CreateSpec(Env::Default(), ctx->root, NewSpec{*text, a.title, author});
  if (!path.ok()) {
    PrintLine(stderr, "specd new: " + path.error().message);
    return kExitInvalid;
  }
  if (Result<PassReport> r = ctx->engine->ReconcilePath(*path); !r.ok()) {
    PrintLine(stderr, "specd new: " + r.error().message);
    return kExitUsage;
  }
  std::printf("%s\n", path->c_str());
  return kExitOk;
}

}  // namespace

Run SetupNew(CLI::App* sub) {
  auto a = std::make_shared<NewArgs>();
  AddRepoOptions(sub, &a->repo, false);
  sub->add_option("--template", a->template_name,
                  "feature, fix, refactor, or a name in .agents/specs/templates/")
      ->capture_default_str();
  sub->add_option("--title", a->title, "Title, 10 to 200 characters")->required();
  sub->add_option("--author", a->author,
                  "Who writes it (default: $SPECD_ACTOR, else git's user.email or user.name, else $USER)");
  return [a] { return RunNew(*a); };
}

}  // namespace specd::cli
