// specd show ID: one spec as the journal knows it, with its tasks.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "engine/spec_model.h"
#include "schema/yaml_tree.h"

namespace specd::cli {

Run SetupShow(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  auto id = std::make_shared<std::string>();
  AddRepoOptions(sub, repo.get(), true);
  sub->add_option("id", *id, "Spec id")->required();
  return [repo, id] {
    std::unique_ptr<Context> ctx = OpenReconciled(*repo, "show");
    if (!ctx) return kExitUsage;
    Result<std::optional<SpecRecord>> rec = ctx->journal->GetSpec(*id);
    if (!rec.ok() || !*rec) {
      std::fprintf(stderr, "specd show: no spec %s\n", id->c_str());
      return kExitUsage;
    }
    const SpecRecord& r = **rec;
    SpecModel model;
    if (Result<std::string> bytes = Env::Default()->ReadFile(ctx->root + "/" + r.path); bytes.ok()) {
      std::string_view body = *bytes;
      if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
      Document doc;
      Finding problem;
      if (LoadYaml(body, LoadLimits{}, &doc, &problem)) model = ReadSpecModel(doc);
    }
    if (repo->json) {
      nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
      for (const TaskFact& t : model.tasks)
        tasks.push_back({{"id", t.id}, {"status", t.status}, {"assigned", t.assigned}});
      nlohmann::ordered_json out = {{"id", r.id},
                                    {"status", r.status},
                                    {"path", r.path},
                                    {"removed", r.removed},
                                    {"generation", r.generation},
                                    {"trace", r.trace_id},
                                    {"valid", r.errors.empty()},
                                    {"errors", r.errors},
                                    {"tasks", tasks}};
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      return kExitOk;
    }
    std::printf("%s  %s%s\n  path: %s\n  author edits: %lld   trace: %s\n", r.id.c_str(), r.status.c_str(),
                r.removed ? " (file removed)" : "", r.path.c_str(), static_cast<long long>(r.generation),
                r.trace_id.c_str());
    if (!r.errors.empty()) std::printf("  invalid:\n%s", r.errors.c_str());
    if (!model.tasks.empty()) {
      std::printf("  tasks:\n");
      for (const TaskFact& t : model.tasks)
        std::printf("    %-10s %-15s%s\n", t.id.c_str(), t.status.c_str(), t.assigned ? " (claimed)" : "");
    }
    return kExitOk;
  };
}

}  // namespace specd::cli
