#include "engine/state_machine.h"

#include <array>

namespace specd {

namespace {

using S = SpecState;

constexpr std::array<const char*, kSpecStateCount> kNames = {
    "draft",    "review",    "approved", "planning", "in-progress", "diff-submitted",
    "reviewed", "completed", "failed",   "blocked",  "cancelled"};

// Who may make each edge, and how (SPEC_FORMAT.md, "Spec states").
struct Edge {
  S from;
  S to;
  Role role;
  bool by_file_edit;  // may be made by editing `status` in the file
  bool needs_reason;
  const char* how;  // said when someone else tries it
};

constexpr Edge kEdges[] = {
    {S::kDraft, S::kReview, Role::kAuthor, true, false,
     "edit status to review, or run `specd request-review ID`"},
    {S::kReview, S::kApproved, Role::kReviewer, false, false, "a reviewer runs `specd approve ID`"},
    {S::kReview, S::kDraft, Role::kReviewer, false, true, "a reviewer runs `specd reject ID --reason TEXT`"},
    {S::kApproved, S::kPlanning, Role::kEngine, false, false,
     "the engine moves an approved spec to planning"},
    {S::kPlanning, S::kInProgress, Role::kEngine, false, false,
     "the engine starts it when the plan is sound and a task is claimed"},
    {S::kInProgress, S::kDiffSubmitted, Role::kEngine, false, false,
     "the engine moves it when every task has submitted a diff"},
    {S::kDiffSubmitted, S::kReviewed, Role::kReviewer, false, false, "a reviewer runs `specd approve ID`"},
    {S::kReviewed, S::kCompleted, Role::kEngine, false, false,
     "the engine completes it once the diffs are committed"},
    {S::kReviewed, S::kInProgress, Role::kReviewer, false, true,
     "a reviewer runs `specd reject ID --reason TEXT`"},
    {S::kInProgress, S::kBlocked, Role::kWorker, false, true,
     "the engine or a worker blocks it, with a reason"},
    {S::kDiffSubmitted, S::kBlocked, Role::kWorker, false, true,
     "the engine or a worker blocks it, with a reason"},
    {S::kBlocked, S::kInProgress, Role::kWorker, false, false, "the engine or a worker unblocks it"},
    {S::kFailed, S::kPlanning, Role::kPerson, false, false, "a person runs `specd reopen ID`"},
};

const Edge* FindEdge(S from, S to) {
  for (const Edge& e : kEdges) {
    if (e.from == from && e.to == to) return &e;
  }
  return nullptr;
}

bool RoleMayAct(Role edge_role, Role who) {
  if (who == edge_role) return true;
  // "engine or worker": the engine may do what a worker may.
  return edge_role == Role::kWorker && who == Role::kEngine;
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
    return "the automatic gates have not passed";
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

// Reviewer rejects reviewed work: the rejected tasks go back to pending.
std::vector<TaskChange> ReworkTasks(const SpecFacts& f) {
  std::vector<TaskChange> out;
  for (const TaskFact& t : f.tasks) {
    if (t.status == "reviewed" || t.status == "diff-submitted") out.push_back({t.id, "pending", true});
  }
  return out;
}

}  // namespace

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
  if (req.via != Via::kFileEdit && !RoleMayAct(edge->role, actor.role)) {
    return Refuse(from, to,
                  Arrow(from, to) + " is not the " + RoleName(actor.role) + "'s to make: " + edge->how);
  }
  if (edge->needs_reason && req.reason.empty()) {
    return Refuse(from, to, Arrow(from, to) + " needs a reason (--reason)");
  }
  std::string guard = GuardProblem(from, to, facts);
  if (!guard.empty()) return Refuse(from, to, Arrow(from, to) + " must wait: " + guard);
  Decision d = Allow(from, to, req.reason);
  if (from == S::kReviewed && to == S::kInProgress) d.task_changes = ReworkTasks(facts);
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
  return step;
}

}  // namespace specd
