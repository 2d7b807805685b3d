// specd failures --like TEXT: recorded failures most similar to TEXT first,
// so a worker can see how a similar one was resolved.
#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"

namespace specd::cli {

Run SetupFailures(CLI::App* sub) {
  auto repo = std::make_shared<RepoOptions>();
  auto like = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(10);
  AddRepoOptions(sub, repo.get(), false);
  sub->add_option("--like", *like, "Words describing the failure")->required();
  sub->add_option("-n,--limit", *limit, "How many to show")->capture_default_str();
  return [repo, like, limit] {
    std::unique_ptr<Context> ctx = OpenContext(*repo);
    if (!ctx) return kExitUsage;
    Result<std::vector<FailureRecord>> found = ctx->journal->SearchFailures(*like, *limit);
    if (!found.ok()) {
      std::fprintf(stderr, "specd failures: %s\n", found.error().message.c_str());
      return kExitUsage;
    }
    if (found->empty()) std::printf("no recorded failure like '%s'\n", like->c_str());
    for (const FailureRecord& f : *found) {
      std::printf("%s  %s%s%s\n  %s\n", FormatTimestamp(f.at_ms).c_str(), f.spec_id.c_str(),
                  f.task_id.empty() ? "" : " ", f.task_id.c_str(), f.summary.c_str());
      if (!f.resolution.empty()) std::printf("  resolved: %s\n", f.resolution.c_str());
    }
    return kExitOk;
  };
}

}  // namespace specd::cli
