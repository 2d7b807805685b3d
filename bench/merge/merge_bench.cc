// bench/merge's driver: one SquashMerge of the given diffs onto a branch,
// as `specd merge` will do it (apply + commit + ref update), in its own
// process so that bench/merge/run times it the way it times git.
//
//   specd_merge_bench REPO BRANCH EXPECTED_TIP PATCH...
//
// Prints the new commit's id. Exit status: 0 landed, 1 any other outcome or
// an error (the message on stderr), 2 usage.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "pipeline/squash_merge.h"

int main(int argc, char** argv) {
  using namespace specd::pipeline;
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s REPO BRANCH EXPECTED_TIP PATCH...\n", argv[0]);
    return 2;
  }
  SquashRequest request;
  request.spec_id = "spec-2026-11-29-001";
  request.title = "Benchmark of the squash merge";
  request.trace_id = "bench";
  request.reviewed_by = "bench <bench@example.com>";
  request.branch = argv[2];
  request.expected_tip = argv[3];
  for (int i = 4; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    char id[16];
    std::snprintf(id, sizeof id, "TASK-%03d", i - 3);
    request.task_ids.push_back(id);
    request.stack.push_back({id, bytes.str()});
  }
  specd::Result<std::unique_ptr<GitRepo>> repo = GitRepo::Open(argv[1], false);
  if (!repo.ok()) {
    std::fprintf(stderr, "%s\n", repo.error().message.c_str());
    return 1;
  }
  specd::Result<SquashResult> r = SquashMerge(**repo, request);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    return 1;
  }
  if (r->outcome != SquashOutcome::kLanded) {
    std::fprintf(stderr, "not landed: %s\n", r->message.c_str());
    return 1;
  }
  std::printf("%s\n", r->commit.c_str());
  return 0;
}
