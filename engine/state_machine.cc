#include "engine/state_machine.h"

#include <algorithm>
#include <array>
#include <utility>

namespace specd {

namespace {

using S = SpecState;

constexpr std::array<const char*, kSpecStateCount> kNames = {
    "draft",    "review",    "approved", "planning", "in-progress", "diff-submitted",
    "reviewed", "completed", "failed",   "blocked",  "cancelled"};

// Who may make each edge, and how (SPEC_FORMAT.md, "Spec states").
// The roles that may make an edge, as bits.
using Roles = unsigned;
constexpr Roles Bit(Role r) {
  return 1u << static_cast<unsigned>(r);
}
constexpr Roles kAuthorOnly = Bit(Role::kAuthor), kReviewerOnly = Bit(Role::kReviewer),
                kEngineOnly = Bit(Role::kEngine), kPersonOnly = Bit(Role::kPerson),
                kEngineOrWorker = Bit(Role::kEngine) | Bit(Role::kWorker),
                kEngineOrPerson = Bit(Role::kEngine) | Bit(Role::kPerson),
                kAnyoneButAuthor = kEngineOrWorker | Bit(Role::kPerson) | Bit(Role::kReviewer);

struct Edge {
  S from;
  S to;
  Roles roles;
  bool by_file_edit;  // may be made by editing `status` in the file
  bool needs_reason;
  const char* how;  // said when someone else tries it
};

constexpr Edge kEdges[] = {
    {S::kDraft, S::kReview, kAuthorOnly, true, false,
     "edit status to review, or run `specd request-review ID`"},
    {S::kReview, S::kApproved, kReviewerOnly, false, false, "a reviewer runs `specd approve ID`"},
    {S::kReview, S::kDraft, kReviewerOnly, false, true, "a reviewer runs `specd reject ID --reason TEXT`"},
    {S::kApproved, S::kPlanning, kEngineOnly, false, false, "the engine moves an approved spec to planning"},
    {S::kPlanning, S::kInProgress, kEngineOnly, false, false,
     "the engine starts it when the plan is sound and a task is claimed"},
    {S::kInProgress, S::kDiffSubmitted, kEngineOnly, false, false,
     "the engine moves it when every task has submitted a diff"},
    {S::kDiffSubmitted, S::kReviewed, kReviewerOnly, false, false, "a reviewer runs `specd approve ID`"},
    {S::kReviewed, S::kCompleted, kEngineOnly, false, false,
     "the engine completes it once the diffs are committed"},
    {S::kReviewed, S::kInProgress, kReviewerOnly | kEngineOnly, false, true,
     "a reviewer runs `specd reject ID --reason TEXT`, or a gate fails"},
    {S::kDiffSubmitted, S::kInProgress, kReviewerOnly | kEngineOnly, false, true,
     "a reviewer runs `specd reject ID --reason TEXT`, or a gate fails"},
    {S::kInProgress, S::kBlocked, kEngineOrWorker, false, true,
     "the engine or a worker blocks it, with a reason"},
    {S::kDiffSubmitted, S::kBlocked, kEngineOrWorker, false, true,
     "the engine or a worker blocks it, with a reason"},
    {S::kReviewed, S::kBlocked, kEngineOnly, false, true,
     "the merge blocks it, naming the conflict or the dirty paths"},
    {S::kBlocked, S::kReviewed, kEngineOrPerson, false, false,
     "a person runs `specd unblock ID` once the merge block is cleared"},
    {S::kBlocked, S::kInProgress, kAnyoneButAuthor, false, false,
     "the engine or a worker unblocks it, or a person runs `specd unblock ID`"},
    {S::kFailed, S::kPlanning, kPersonOnly, false, false, "a person runs `specd reopen ID`"},
};

const Edge* FindEdge(S from, S to) {
  for (const Edge& e : kEdges) {
    if (e.from == from && e.to == to) return &e;
  }
  return nullptr;
}

bool RoleMayAct(Roles roles, Role who) {
  return (roles & Bit(who)) != 0;
}

std::string Arrow(S from, S to) {
  return std::string(StateName(from)) + " -> " + StateName(to);
}

int CountTasks(const SpecFacts& f, std::initializer_list<std::string_view> statuses) {
  int n = 0;
  for (const TaskFact& t : f.tasks) {
    for (std::string_view s : statuses) n += t.status == s;
  }
  return n;
}

// The guard of an edge, "" when it holds.
std::string GuardProblem(S from, S to, const SpecFacts& f) {
  if (!f.valid && to != S::kCancelled && to != S::kFailed && to != S::kDraft) {
    return "the spec does not validate; run `specd validate` and fix it first";
  }
  if (from == S::kPlanning && to == S::kInProgress) {
    if (f.tasks.empty()) return "the plan has no tasks yet";
    if (!f.plan_problems.empty()) return "the plan is not sound: " + f.plan_problems.front();
    if (CountTasks(f, {"in-progress", "diff-submitted", "reviewed", "done"}) == 0) {
      return "no task has been claimed yet";
    }
  }
  if (from == S::kInProgress && to == S::kDiffSubmitted) {
    int submitted = CountTasks(f, {"diff-submitted", "reviewed", "done"});
    if (submitted < static_cast<int>(f.tasks.size())) {
      return std::to_string(f.tasks.size() - submitted) + " of " + std::to_string(f.tasks.size()) +
             " tasks have not submitted a diff";
    }
    if (!f.diffs_apply) return "a submitted diff does not apply cleanly to the target branch";
  }
  if (from == S::kDiffSubmitted && to == S::kReviewed && !f.gates_pass) {
    return f.gates_problem.empty() ? "the automatic gates have not passed" : f.gates_problem;
  }
  if (from == S::kReviewed && to == S::kCompleted && !f.committed) {
    return "the diffs have not been committed yet";
  }
  return "";
}

Decision Refuse(S from, S to, std::string why) {
  Decision d;
  d.from = from;
  d.to = to;
  d.reason = std::move(why);
  return d;
}

Decision Allow(S from, S to, std::string reason) {
  Decision d;
  d.allowed = true;
  d.from = from;
  d.to = to;
  d.reason = std::move(reason);
  return d;
}

// Submitted work rejected: the named tasks (every submitted one when none
// is named) go back to pending.
std::vector<TaskChange> ReworkTasks(const SpecFacts& f, const std::vector<std::string>& named) {
  std::vector<TaskChange> out;
  for (const TaskFact& t : f.tasks) {
    if (t.status != "reviewed" && t.status != "diff-submitted") continue;
    if (!named.empty() && std::find(named.begin(), named.end(), t.id) == named.end()) continue;
    out.push_back({t.id, "pending", true});
  }
  return out;
}

// A named task that is not there, or has nothing submitted to reject.
std::string RejectProblem(const SpecFacts& f, const std::vector<std::string>& named) {
  for (const std::string& id : named) {
    auto t = std::find_if(f.tasks.begin(), f.tasks.end(), [&](const TaskFact& x) { return x.id == id; });
    if (t == f.tasks.end()) return "the spec has no task " + id;
    if (t->status != "reviewed" && t->status != "diff-submitted") {
      return id + " is " + t->status + "; only submitted work is rejected";
    }
  }
  return "";
}

char Fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `*` matches any run of characters (none included); the rest by ASCII case.
bool Matches(std::string_view pattern, std::string_view who) {
  size_t p = 0, w = 0, star = std::string_view::npos, resume = 0;
  while (w < who.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = w;
    } else if (p < pattern.size() && Fold(pattern[p]) == Fold(who[w])) {
      ++p, ++w;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      w = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string Listed(const char* key, const std::vector<std::string>& who) {
  if (who.empty()) return std::string(key) + " is empty: no one may";
  std::string out = std::string(key) + ": ";
  for (size_t i = 0; i < who.size(); ++i) out += (i ? ", " : "") + who[i];
  return out;
}

// The people's verb that makes from -> to, as a verb and as its -ing form.
std::pair<const char*, const char*> VerbOf(S from, S to, Role role) {
  if (role == Role::kReviewer) {
    if (to == S::kApproved || to == S::kReviewed) return {"approve", "approving"};
    return {"reject", "rejecting"};
  }
  if (to == S::kCancelled) return {"cancel", "cancelling"};
  if (from == S::kFailed) return {"reopen", "reopening"};
  return {"unblock", "unblocking"};
}

// A person's verb under the repository's roles: the refusal, or nothing.
std::optional<Decision> RoleRefusal(S from, S to, const SpecFacts& f, const Actor& actor) {
  if (!f.roles || (actor.role != Role::kReviewer && actor.role != Role::kPerson)) return std::nullopt;
  const RoleRules& r = *f.roles;
  const auto [verb, verbing] = VerbOf(from, to, actor.role);
  const std::string who = actor.name + " may not " + verb + " this spec: ";
  Decision d = Refuse(from, to, "");
  if (actor.role == Role::kReviewer) {
    if (!MatchesAnyone(r.reviewers, actor.name)) {
      d.rule = "roles.reviewers";
      d.reason = who + verbing + " needs a reviewer (" + Listed("roles.reviewers", r.reviewers) + ")";
      return d;
    }
    const bool approving = to == S::kApproved || to == S::kReviewed;
    if (approving && !r.allow_self_approval && SamePerson(actor.name, f.author)) {
      d.rule = "allowSelfApproval";
      d.reason = who + "it is their own (metadata.author: " + f.author +
                 ") and allowSelfApproval is false; another reviewer approves it";
      return d;
    }
    return std::nullopt;
  }
  if (SamePerson(actor.name, f.author) || MatchesAnyone(r.maintainers, actor.name)) return std::nullopt;
  d.rule = "roles.maintainers";
  d.reason = who + verbing + " needs its author (" + (f.author.empty() ? "none named" : f.author) +
             ") or a maintainer (" + Listed("roles.maintainers", r.maintainers) + ")";
  return d;
}

}  // namespace

std::vector<Role> MakersOf(SpecState from, SpecState to) {
  if (IsTerminal(from)) return {};
  if (to == S::kCancelled) return {Role::kPerson};
  if (to == S::kFailed) return from == S::kFailed ? std::vector<Role>{} : std::vector<Role>{Role::kEngine};
  const Edge* edge = FindEdge(from, to);
  std::vector<Role> out;
  for (Role r : {Role::kAuthor, Role::kReviewer, Role::kEngine, Role::kWorker, Role::kPerson})
    if (edge && RoleMayAct(edge->roles, r)) out.push_back(r);
  return out;
}

std::optional<Decision> RoleRuleRefusal(SpecState from, SpecState to, const SpecFacts& facts,
                                        const Actor& actor) {
  return RoleRefusal(from, to, facts, actor);
}

bool SamePerson(std::string_view a, std::string_view b) {
  if (a.empty() || a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Fold(a[i]) != Fold(b[i])) return false;
  return true;
}

bool MatchesAnyone(const std::vector<std::string>& patterns, const std::string& who) {
  if (who.empty()) return false;
  for (const std::string& p : patterns)
    if (Matches(p, who)) return true;
  return false;
}

const char* StateName(SpecState s) {
  return kNames[static_cast<size_t>(s)];
}

std::optional<SpecState> ParseState(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<SpecState>(i);
  }
  return std::nullopt;
}

bool IsTerminal(SpecState s) {
  return s == S::kCompleted || s == S::kCancelled;
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAuthor:
      return "author";
    case Role::kReviewer:
      return "reviewer";
    case Role::kEngine:
      return "engine";
    case Role::kWorker:
      return "worker";
    case Role::kPerson:
      return "person";
  }
  return "?";
}

bool IsLifeCycleEdge(SpecState from, SpecState to) {
  if (FindEdge(from, to)) return true;
  if (IsTerminal(from)) return false;
  return to == S::kCancelled || (to == S::kFailed && from != S::kFailed);
}

Decision Decide(SpecState from, const SpecFacts& facts, const Request& req, const Actor& actor) {
  const S to = req.to;
  if (from == to) return Refuse(from, to, std::string("the spec is already ") + StateName(to));
  if (IsTerminal(from)) {
    return Refuse(from, to, std::string("the spec is ") + StateName(from) + "; that is final");
  }
  if (req.via == Via::kSync) {
    // Decided on another clone and brought in by git: record any edge of the
    // life cycle, refuse only what no one could have done.
    if (!IsLifeCycleEdge(from, to)) {
      return Refuse(from, to, Arrow(from, to) + " is not a step of the spec life cycle");
    }
    return Allow(from, to, req.reason.empty() ? "brought in by git" : req.reason);
  }
  if (to == S::kCancelled) {
    if (req.via == Via::kFileEdit) {
      return Refuse(from, to,
                    Arrow(from, to) +
                        " cannot be made by editing the file: a person runs "
                        "`specd cancel ID --reason TEXT`");
    }
    if (actor.role != Role::kPerson)
      return Refuse(from, to, "only a person cancels a spec: `specd cancel ID --reason TEXT`");
    if (std::optional<Decision> no = RoleRefusal(from, to, facts, actor)) return *no;
    if (req.reason.empty()) return Refuse(from, to, "cancelling needs a reason (--reason)");
    return Allow(from, to, req.reason);
  }
  if (to == S::kFailed) {
    if (req.via != Via::kEngine) return Refuse(from, to, "only the engine marks a spec failed");
    return Allow(from, to, req.reason);
  }
  const Edge* edge = FindEdge(from, to);
  if (!edge) {
    std::string next;
    for (const Edge& e : kEdges) {
      if (e.from == from) next += std::string(next.empty() ? "" : ", ") + StateName(e.to);
    }
    return Refuse(from, to,
                  Arrow(from, to) + " is not a step of the spec life cycle (from " + StateName(from) +
                      " it goes to " + next + ", or cancelled)");
  }
  if (req.via == Via::kFileEdit && !edge->by_file_edit) {
    return Refuse(from, to, Arrow(from, to) + " cannot be made by editing the file: " + edge->how);
  }
  if (req.via != Via::kFileEdit && !RoleMayAct(edge->roles, actor.role)) {
    return Refuse(from, to,
                  Arrow(from, to) + " is not the " + RoleName(actor.role) + "'s to make: " + edge->how);
  }
  if (req.via == Via::kVerb) {
    if (std::optional<Decision> no = RoleRefusal(from, to, facts, actor)) return *no;
  }
  if (edge->needs_reason && req.reason.empty()) {
    return Refuse(from, to, Arrow(from, to) + " needs a reason (--reason)");
  }
  std::string guard = GuardProblem(from, to, facts);
  if (!guard.empty()) return Refuse(from, to, Arrow(from, to) + " must wait: " + guard);
  const bool rework = (from == S::kReviewed || from == S::kDiffSubmitted) && to == S::kInProgress;
  if (rework) {
    if (std::string bad = RejectProblem(facts, req.tasks); !bad.empty()) return Refuse(from, to, bad);
  } else if (!req.tasks.empty()) {
    return Refuse(from, to, "tasks are named only when submitted work is rejected");
  }
  Decision d = Allow(from, to, req.reason);
  if (rework) d.task_changes = ReworkTasks(facts, req.tasks);
  return d;
}

EngineStep NextEngineStep(SpecState current, const SpecFacts& facts) {
  EngineStep step;
  if (IsTerminal(current) || current == S::kFailed) return step;
  if (facts.attempts_exhausted) {
    step.to = S::kFailed;
    step.reason = facts.exhausted_reason.empty() ? "attempts used up" : facts.exhausted_reason;
    return step;
  }
  S to;
  const char* reason;
  switch (current) {
    case S::kApproved:
      to = S::kPlanning, reason = "approved: planning starts";
      break;
    case S::kPlanning:
      to = S::kInProgress, reason = "the plan is sound and a task is claimed";
      break;
    case S::kInProgress:
      to = S::kDiffSubmitted, reason = "every task has submitted a diff";
      break;
    case S::kReviewed:
      to = S::kCompleted, reason = "the diffs are committed";
      break;
    default:
      return step;
  }
  std::string guard = GuardProblem(current, to, facts);
  if (!guard.empty()) {
    step.waiting = guard;
    return step;
  }
  step.to = to;
  step.reason = reason;
  if (to == S::kCompleted && !facts.committed_as.empty()) step.reason += " as " + facts.committed_as;
  return step;
}

}  // namespace specd
