// The spec life cycle of SPEC_FORMAT.md as one pure function: given the last
// legal status, what is known about the spec, the requested change and who
// asks, it says allowed or refused (with a reason a person can act on) and
// what follows. No disk, no clock, no journal: tests drive it directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace specd {

enum class SpecState : uint8_t {
  kDraft,
  kReview,
  kApproved,
  kPlanning,
  kInProgress,
  kDiffSubmitted,
  kReviewed,
  kCompleted,
  kFailed,
  kBlocked,
  kCancelled,
};
inline constexpr int kSpecStateCount = 11;

const char* StateName(SpecState s);  // "in-progress"
std::optional<SpecState> ParseState(std::string_view name);
bool IsTerminal(SpecState s);  // completed, cancelled

// Who asks. The CLI verbs act in a role (approve: reviewer, cancel: person);
// an edit of the file is the author's; the engine acts for itself.
enum class Role : uint8_t { kAuthor, kReviewer, kEngine, kWorker, kPerson };
const char* RoleName(Role r);

// How the change arrived.
enum class Via : uint8_t {
  kFileEdit,  // someone changed `status` in the file
  kVerb,      // a CLI verb (specd approve, ...)
  kEngine,    // the engine's own step
  kSync,      // brought in by git (merge, checkout): already decided elsewhere
};

struct Actor {
  std::string name;
  Role role = Role::kAuthor;
};

// Who may do what (.agents/specd.yaml `roles`): people named by email or
// name, `*` matching any run of characters, compared without regard to ASCII
// case. Set, it binds the people's verbs: approve and reject need a reviewer
// (and an author may not approve their own spec unless allow_self_approval);
// cancel, reopen and unblock need the spec's author or a maintainer. The
// engine's and workers' steps and what git brings are not bound by it.
struct RoleRules {
  std::vector<std::string> reviewers, maintainers;
  bool allow_self_approval = false;
  bool operator==(const RoleRules&) const = default;
};

// Whether `who` is matched by one of `patterns` (`*` any run of characters).
bool MatchesAnyone(const std::vector<std::string>& patterns, const std::string& who);

// Whether two names are one person's: equal but for ASCII case, not empty.
bool SamePerson(std::string_view a, std::string_view b);

struct TaskFact {
  std::string id;
  std::string status;  // pending, in-progress, diff-submitted, reviewed, done, failed, blocked
  bool assigned = false;
  std::string assigned_to;                // the worker named in the file ("" when null)
  std::vector<std::string> dependencies;  // task ids of this spec
  std::vector<std::string> files;         // repo-relative paths the task may change
  std::string priority;                   // low, medium, high, critical ("" when not given)
  std::string diff_path;
  std::string title;  // for people (and a worker's search of earlier failures)
};

// What the engine knows about the spec when it decides.
struct SpecFacts {
  bool valid = true;  // schema and spec rules pass
  std::vector<TaskFact> tasks;
  std::vector<std::string> plan_problems;  // dependency cycles, unknown ids, bad paths
  // Facts from parts not built yet (the merge pipeline, the git manager,
  // leases); they default to what lets the life cycle be exercised.
  bool diffs_apply = true;
  bool gates_pass = true;
  std::string gates_problem;  // when !gates_pass: which gate, where, its log (engine/gates.h)
  bool committed = false;
  std::string committed_as;  // when committed: "<40 hex> on main", for the reason recorded
  bool attempts_exhausted = false;
  std::string exhausted_reason;    // which task used its attempts up, and its last reason
  std::optional<RoleRules> roles;  // the repository's; nullopt: anyone may (today's behaviour)
  std::string author;              // metadata.author
};

struct Request {
  SpecState to;
  Via via = Via::kVerb;
  std::string reason;
  // A reject of submitted work (-> in-progress): the tasks sent back to
  // pending (empty: every submitted one).
  std::vector<std::string> tasks;
};

struct TaskChange {
  std::string task_id;
  std::string status;
  bool clear_assignee = false;
};

struct Decision {
  bool allowed = false;
  SpecState from = SpecState::kDraft;
  SpecState to = SpecState::kDraft;
  std::string reason;  // refused: why, and what to do instead; allowed: the reason recorded
  std::vector<TaskChange> task_changes;
  // Refused by a role rule ("roles.reviewers", "roles.maintainers",
  // "allowSelfApproval"): the engine journals the refusal.
  std::string rule;
};

Decision Decide(SpecState current, const SpecFacts& facts, const Request& request, const Actor& actor);

// The engine's own next step from `current`: approved -> planning at once,
// planning -> in-progress when the plan is sound and a task is claimed,
// in-progress -> diff-submitted when every task is submitted, reviewed ->
// completed once committed, -> failed when attempts are used up. `to` is
// empty when there is nothing to do; `waiting` then says what is missing.
struct EngineStep {
  std::optional<SpecState> to;
  std::string reason;
  std::string waiting;
};
EngineStep NextEngineStep(SpecState current, const SpecFacts& facts);

// Whether from -> to is an edge of the life-cycle graph at all, whoever asks.
bool IsLifeCycleEdge(SpecState from, SpecState to);

// Who may make from -> to (any -> failed: the engine; -> cancelled: a
// person), in Role order; empty when it is no step. What `specd audit` asks
// of a changeLog entry: a person's step names a person, the engine's names
// specd. A person makes it as kReviewer (approve, reject) or kPerson
// (cancel, reopen, unblock).
std::vector<Role> MakersOf(SpecState from, SpecState to);

// The roles rule Decide applies to a person's verb (`facts.roles`,
// `facts.author`): the refusal, naming the rule, or nullopt when `actor`
// (kReviewer or kPerson) may make from -> to.
std::optional<Decision> RoleRuleRefusal(SpecState from, SpecState to, const SpecFacts& facts,
                                        const Actor& actor);

}  // namespace specd
