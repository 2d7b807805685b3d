// specd failures --like TEXT: recorded failures most similar to TEXT first,
// so a worker can see how a similar one was resolved.
#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"

namespace specd::cli {

Run SetupFailures(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  auto like = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(10);
  AddRepoOptions(sub, repo.get(), false);
  sub->add_option("--like", *like, "Words describing the failure")->required();
  sub->add_option("-n,--limit", *limit, "How many to show")->capture_default_str();
  return [repo, like, limit] {
    std::unique_ptr<Context> ctx = OpenForLooking(*repo, "failures", false);
    if (!ctx) return kExitUsage;
    Result<std::vector<FailureRecord>> found =
        ctx->no_specs ? std::vector<FailureRecord>() : ctx->journal->SearchFailures(*like, *limit);
    if (!found.ok()) {
      PrintLine(stderr, "specd failures: " + found.error().message);
      return kExitUsage;
    }
    if (found->empty()) PrintLine(stdout, "no recorded failure like '" + *like + "'");
    for (const FailureRecord& f : *found) {
      PrintLine(stdout,
                FormatTimestamp(f.at_ms) + "  " + f.spec_id + (f.task_id.empty() ? "" : " ") + f.task_id);
      PrintLine(stdout, "  " + f.summary);
      if (!f.resolution.empty()) PrintLine(stdout, "  resolved: " + f.resolution);
    }
    return kExitOk;
  };
}

}  // namespace specd::cli
