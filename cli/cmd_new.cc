// specd new --template NAME --title TEXT [--author NAME]: a new spec under
// the next free id of the day; prints its path.
#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/templates.h"
#include "engine/new_spec.h"

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
  Result<std::string> own = Env::Default()->ReadFile(root + "/.agents/specs/templates/" + name + ".yaml");
  if (own.ok()) return *own;
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
  std::string author = a.author.empty() ? ActorName(a.repo) : a.author;
  Result<std::string> path = CreateSpec(Env::Default(), ctx->root, NewSpec{*text, a.title, author});
  if (!path.ok()) {
    std::fprintf(stderr, "specd new: %s\n", path.error().message.c_str());
    return kExitInvalid;
  }
  if (Result<PassReport> r = ctx->engine->ReconcilePath(*path); !r.ok()) {
    std::fprintf(stderr, "specd new: %s\n", r.error().message.c_str());
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
  sub->add_option("--author", a->author, "Who writes it (default: $SPECD_ACTOR, else $USER)");
  return [a] { return RunNew(*a); };
}

}  // namespace specd::cli
