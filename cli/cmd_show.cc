// specd show ID: one spec as the journal knows it, with its tasks.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"
#include "engine/events.h"
#include "engine/spec_files.h"
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
    Result<std::optional<SpecRecord>> rec =
        ctx->no_specs ? Result<std::optional<SpecRecord>>(std::nullopt) : ctx->journal->GetSpec(*id);
    if (!rec.ok() || !*rec) {
      PrintLine(stderr, "specd show: no spec " + *id);
      return kExitUsage;
    }
    const SpecRecord& r = **rec;
    SpecModel model;
    // Read as the engine reads (spec_files): never a symlink out, a FIFO, or past the limit.
    Result<FileBytes> bytes = ReadRepoSpecFile(ctx->root + "/" + r.path, ctx->root, LoadLimits{}.max_bytes);
    if (bytes.ok() && !bytes->too_large) {
      std::string_view body = bytes->data;
      if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
      Document doc;
      Finding problem;
      if (LoadYaml(body, LoadLimits{}, &doc, &problem)) model = ReadSpecModel(doc);
    }
    // The journal's side of each task: its held lease, its attempts.
    std::map<std::string, LeaseRecord> leases;
    std::map<std::string, TaskRecord> counters;
    if (Result<std::vector<LeaseRecord>> held = ctx->journal->HeldLeases(r.id); held.ok()) {
      for (LeaseRecord& l : *held) leases[l.task_id] = std::move(l);
    }
    if (Result<std::vector<TaskRecord>> rows = ctx->journal->SpecTasks(r.id); rows.ok()) {
      for (TaskRecord& t : *rows) counters[t.task_id] = std::move(t);
    }
    if (repo->json) {
      nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
      for (const TaskFact& t : model.tasks) {
        nlohmann::ordered_json task = {
            {"id", t.id},
            {"status", t.status},
            {"assigned", t.assigned},
            {"worker", t.assigned ? nlohmann::ordered_json(t.assigned_to) : nullptr},
            {"attempts", counters[t.id].attempts},
            {"epoch", counters[t.id].epoch}};
        if (auto l = leases.find(t.id); l != leases.end()) {
          task["leaseExpiresAt"] = FormatTimestamp(l->second.expires_ms);
          task["base"] = l->second.base;
        }
        if (!t.diff_path.empty()) task["diffPath"] = t.diff_path;
        tasks.push_back(task);
      }
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
    PrintLine(stdout, r.id + "  " + r.status + (r.removed ? " (file removed)" : "") + "\n  path: " + r.path +
                          "\n  author edits: " + std::to_string(r.generation) + "   trace: " + r.trace_id);
    if (!r.errors.empty()) {
      PrintLine(stdout, "  invalid:");
      std::fputs(Printable(r.errors, true).c_str(), stdout);
    }
    if (!model.tasks.empty()) {
      PrintLine(stdout, "  tasks:");
      for (const TaskFact& t : model.tasks) {
        std::string id_col = t.id, status_col = t.status;
        id_col.resize(std::max<size_t>(id_col.size(), 10), ' ');
        status_col.resize(std::max<size_t>(status_col.size(), 15), ' ');
        std::string line = "    " + id_col + " " + status_col;
        if (t.assigned) line += " " + t.assigned_to;
        if (auto l = leases.find(t.id); l != leases.end()) {
          line += "  lease epoch " + std::to_string(l->second.epoch) + " until " +
                  FormatTimestamp(l->second.expires_ms);
        }
        if (counters[t.id].attempts > 0) line += "  attempts " + std::to_string(counters[t.id].attempts);
        if (!t.diff_path.empty()) line += "  diff " + t.diff_path;
        line.erase(line.find_last_not_of(' ') + 1);
        PrintLine(stdout, line);
      }
    }
    return kExitOk;
  };
}

}  // namespace specd::cli
