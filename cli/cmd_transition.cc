// specd request-review | approve | reject | cancel | reopen ID: the people's
// side of the life cycle. Each verb acts in a role and picks its target
// from the spec's current status.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/printable.h"

namespace specd::cli {

namespace {

struct Verb {
  const char* name;
  const char* help;
  Role role;
  bool reason_option;
  // The status the verb moves a spec in `current` to, if it applies.
  std::optional<SpecState> (*target)(SpecState current);
  const char* applies_to;  // said when it does not
};

using S = SpecState;

const Verb kVerbs[] = {
    {"request-review", "Ask for review of a draft (draft -> review)", Role::kAuthor, false,
     [](S s) { return s == S::kDraft ? std::optional(S::kReview) : std::nullopt; }, "a draft"},
    {"approve", "Approve a spec in review, or its submitted diffs (diff-submitted -> reviewed)",
     Role::kReviewer, false,
     [](S s) {
       return s == S::kReview          ? std::optional(S::kApproved)
              : s == S::kDiffSubmitted ? std::optional(S::kReviewed)
                                       : std::nullopt;
     },
     "a spec in review or diff-submitted"},
    {"reject",
     "Send a spec in review back to draft, or submitted work back to in-progress (its tasks to pending, "
     "an attempt counted; --task names which)",
     Role::kReviewer, true,
     [](S s) {
       return s == S::kReview                               ? std::optional(S::kDraft)
              : s == S::kReviewed || s == S::kDiffSubmitted ? std::optional(S::kInProgress)
                                                            : std::nullopt;
     },
     "a spec in review, diff-submitted or reviewed"},
    {"unblock", "Unblock a blocked spec: back to reviewed after a merge block, else to in-progress",
     Role::kPerson, false,
     [](S s) { return s == S::kBlocked ? std::optional(S::kInProgress) : std::nullopt; }, "a blocked spec"},
    {"cancel", "Cancel a spec that is not completed or cancelled", Role::kPerson, true,
     [](S s) { return IsTerminal(s) ? std::nullopt : std::optional(S::kCancelled); },
     "a spec that is not completed or cancelled"},
    {"reopen", "Reopen a failed spec (failed -> planning)", Role::kPerson, false,
     [](S s) { return s == S::kFailed ? std::optional(S::kPlanning) : std::nullopt; }, "a failed spec"},
};

// The reason without surrounding white space: "   " is no reason, and the
// engine refuses it as it refuses an empty one.
std::string Trimmed(const std::string& text) {
  const char* space = " \t\r\n\f\v";
  size_t from = text.find_first_not_of(space);
  return from == std::string::npos ? "" : text.substr(from, text.find_last_not_of(space) - from + 1);
}

// Where an unblock goes: back to reviewed when the merge blocked it.
SpecState UnblockTarget(Journal& journal, const std::string& id) {
  Result<std::vector<TransitionRecord>> log = journal.Transitions(id);
  if (log.ok()) {
    for (auto t = log->rbegin(); t != log->rend(); ++t) {
      if (t->to == StateName(S::kBlocked)) {
        return t->from == StateName(S::kReviewed) ? S::kReviewed : S::kInProgress;
      }
    }
  }
  return S::kInProgress;
}

int RunVerb(const Verb& verb, const RepoOptions& repo, const std::string& id, const std::string& given_reason,
            const std::vector<std::string>& tasks) {
  const std::string reason = Trimmed(given_reason);
  if (id.empty()) {  // checked here, not by CLI11: an unknown option is reported before a missing id
    std::fprintf(stderr, "specd %s: a spec id is required (spec-YYYY-MM-DD-NNN)\n", verb.name);
    return kExitUsage;
  }
  std::optional<std::string> root = FindRoot(repo);
  if (!root) return kExitUsage;
  // Who may do what (roles) is in the settings: unreadable, no one can tell.
  Result<RepoSettings> settings = LoadRepoSettings(*root);
  if (!settings.ok()) {
    PrintLine(stderr, std::string("specd ") + verb.name + ": the settings are not usable:");
    PrintLine(stderr, settings.error().message);
    return kExitUsage;
  }
  std::unique_ptr<Context> ctx = OpenContext(repo, LeaseOptions(*settings));
  if (!ctx) return kExitUsage;
  if (Result<PassReport> pass = ctx->engine->ReconcileSpec(id); !pass.ok()) {
    PrintLine(stderr, std::string("specd ") + verb.name + ": " + pass.error().message);
    return kExitUsage;
  }
  Result<std::optional<SpecRecord>> rec = ctx->journal->GetSpec(id);
  if (!rec.ok() || !*rec || (*rec)->removed) {
    PrintLine(stderr,
              std::string("specd ") + verb.name + ": no spec " + id + " in " + ctx->root + "/.agents/specs/");
    return kExitUsage;
  }
  std::optional<SpecState> current = ParseState((*rec)->status);
  std::optional<SpecState> to = current ? verb.target(*current) : std::nullopt;
  if (!to) {
    PrintLine(stderr, std::string("specd ") + verb.name + ": " + id + " is " +
                          ((*rec)->status.empty() ? "invalid" : (*rec)->status) + "; " + verb.name +
                          " takes " + verb.applies_to);
    if (!(*rec)->errors.empty()) std::fputs(Printable((*rec)->errors, true).c_str(), stderr);
    return kExitInvalid;
  }
  if (*current == S::kBlocked && *to == S::kInProgress) to = UnblockTarget(*ctx->journal, id);
  if (*current == S::kDiffSubmitted || *current == S::kReviewed) {
    // Submitted work: the gates are judged on the candidate (git and the
    // settings at the target's tip), attempts counted by the lease settings.
    ctx.reset();
    ctx = OpenTaskContext(repo, verb.name);
    if (!ctx) return kExitUsage;
  }
  EventLines sink(stdout);
  ctx->engine->AddSink(&sink);
  Result<Decision> d =
      ctx->engine->RequestTransition(id, *to, Actor{ActorName(repo, ctx->root), verb.role}, reason, tasks);
  if (!d.ok()) {
    PrintLine(stderr, std::string("specd ") + verb.name + ": " + d.error().message);
    return kExitUsage;
  }
  if (!d->allowed) {
    PrintLine(stderr, std::string("specd ") + verb.name + ": refused: " + d->reason);
    return kExitInvalid;
  }
  return kExitOk;
}

}  // namespace

void SetupTransitionVerbs(CLI::App* app, std::map<CLI::App*, Run>* runs) {
  for (const Verb& verb : kVerbs) {
    CLI::App* sub = app->add_subcommand(verb.name, verb.help);
    auto repo = std::make_shared<RepoOptions>();
    auto id = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    AddRepoOptions(sub, repo.get(), false);
    sub->add_option("id", *id, "Spec id (spec-YYYY-MM-DD-NNN), required");
    sub->add_option("--actor", repo->actor,
                    "Who is acting (default: $SPECD_ACTOR, else git's user.email or user.name, else $USER)");
    if (verb.reason_option) sub->add_option("--reason", *reason, "Why (required)")->required();
    auto tasks = std::make_shared<std::vector<std::string>>();
    if (std::string(verb.name) == "reject") {
      sub->add_option("--task", *tasks,
                      "A task sent back to pending (repeatable; default: every submitted one)");
    }
    (*runs)[sub] = [&verb, repo, id, reason, tasks] { return RunVerb(verb, *repo, *id, *reason, *tasks); };
  }
}

}  // namespace specd::cli
