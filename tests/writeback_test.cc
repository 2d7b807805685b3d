// Byte-preserving write-back: each test edits a small spec and compares the
// whole file, byte for byte, with what it must become. Every successful edit
// is also checked generically: loaded before and after, the two trees agree
// everywhere except the fields the edits own, which hold the new values.
#include "engine/writeback.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "schema/diagnostic.h"
#include "schema/source_text.h"
#include "schema/validate.h"
#include "schema/yaml_tree.h"

namespace specd {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// The generic check, written independently of writeback.cc.

// One node of a loaded document: its JSON pointer, kind, quoting and text.
struct FlatNode {
  std::string path, kind;
  bool quoted = false;
  std::string text;
  bool operator==(const FlatNode&) const = default;
};
using Flat = std::vector<FlatNode>;

void PrintTo(const FlatNode& n, std::ostream* os) {
  *os << n.path << " = " << n.kind << (n.quoted ? " quoted '" : " '") << n.text << "'";
}

void FlattenTo(const Document& d, NodeId id, const std::string& path, Flat* out) {
  const Node& n = d.node(id);
  bool value = n.is_scalar() && n.kind != NodeKind::kNull;
  out->push_back({path, NodeKindName(n.kind), n.quoted, value ? n.text : ""});
  for (const MapEntry& e : n.entries) FlattenTo(d, e.value, path + "/" + EscapePointerToken(e.key), out);
  for (size_t i = 0; i < n.items.size(); ++i) FlattenTo(d, n.items[i], path + "/" + std::to_string(i), out);
}

Document LoadText(std::string_view bytes) {
  SourceText source(bytes);
  Document doc;
  Finding problem;
  EXPECT_TRUE(LoadYaml(source.body(), LoadLimits{}, &doc, &problem)) << problem.message << "\n" << bytes;
  return doc;
}

Flat FlattenText(std::string_view bytes) {
  Document doc = LoadText(bytes);
  Flat out;
  if (!doc.empty()) FlattenTo(doc, doc.root_id(), "", &out);
  return out;
}

// "string in-progress", "null", "integer 3", "mapping": what is at `path`, quoting aside.
std::string Value(const Flat& flat, const std::string& path) {
  for (const FlatNode& n : flat) {
    if (n.path == path) return n.text.empty() && n.kind != "string" ? n.kind : n.kind + " " + n.text;
  }
  return "(absent)";
}

size_t CountItems(const Flat& flat, const std::string& list) {
  size_t n = 0;
  while (Value(flat, list + "/" + std::to_string(n)) != "(absent)") ++n;
  return n;
}

int TaskIndex(const Flat& flat, const std::string& id) {
  for (size_t i = 0; Value(flat, "/tasks/" + std::to_string(i)) != "(absent)"; ++i) {
    if (Value(flat, "/tasks/" + std::to_string(i) + "/id") == "string " + id) return static_cast<int>(i);
  }
  return -1;
}

// The paths `edits` may change in the spec `before`: (path, whole subtree?).
std::vector<std::pair<std::string, bool>> OwnedPaths(const Flat& before, const SpecEdits& edits) {
  std::vector<std::pair<std::string, bool>> owned;
  if (edits.status) owned.emplace_back("/status", true);
  if (edits.updated_at) owned.emplace_back("/metadata/updatedAt", true);
  for (const TaskEdit& t : edits.tasks) {
    std::string task = "/tasks/" + std::to_string(TaskIndex(before, t.task_id));
    if (t.status) owned.emplace_back(task + "/status", true);
    if (t.assigned_to) owned.emplace_back(task + "/assignedTo", true);
    if (t.diff_path) owned.emplace_back(task + "/diffPath", true);
  }
  if (edits.progress) {
    owned.emplace_back("/progress", false);
    for (const char* key : {"total", "pending", "inProgress", "diffSubmitted", "reviewed", "done", "failed",
                            "blocked", "percent"}) {
      owned.emplace_back(std::string("/progress/") + key, true);
    }
  }
  if (!edits.append_changelog.empty()) {
    owned.emplace_back("/changeLog", false);
    size_t first = CountItems(before, "/changeLog");
    for (size_t i = 0; i < edits.append_changelog.size(); ++i) {
      owned.emplace_back("/changeLog/" + std::to_string(first + i), true);
    }
  }
  return owned;
}

Flat WithoutOwned(const Flat& flat, const std::vector<std::pair<std::string, bool>>& owned) {
  Flat out;
  for (const auto& entry : flat) {
    bool skip = false;
    for (const auto& [p, subtree] : owned) {
      const std::string& path = entry.path;
      skip = skip || path == p || (subtree && path.rfind(p + "/", 0) == 0);
    }
    if (!skip) out.push_back(entry);
  }
  return out;
}

void ExpectOnlyOwnedChanged(std::string_view before_text, std::string_view after_text,
                            const SpecEdits& edits) {
  Flat before = FlattenText(before_text);
  Flat after = FlattenText(after_text);
  auto owned = OwnedPaths(before, edits);
  EXPECT_EQ(WithoutOwned(before, owned), WithoutOwned(after, owned));
  if (edits.status) {
    EXPECT_EQ(Value(after, "/status"), "string " + *edits.status);
  }
  if (edits.updated_at) {
    EXPECT_EQ(Value(after, "/metadata/updatedAt"), "string " + *edits.updated_at);
  }
  for (const TaskEdit& t : edits.tasks) {
    std::string task = "/tasks/" + std::to_string(TaskIndex(after, t.task_id));
    if (t.status) {
      EXPECT_EQ(Value(after, task + "/status"), "string " + *t.status);
    }
    if (t.assigned_to) {
      EXPECT_EQ(Value(after, task + "/assignedTo"),
                t.assigned_to->has_value() ? "string " + **t.assigned_to : "null");
    }
    if (t.diff_path) {
      EXPECT_EQ(Value(after, task + "/diffPath"), "string " + *t.diff_path);
    }
  }
  if (edits.progress) {
    const Progress& p = *edits.progress;
    EXPECT_EQ(Value(after, "/progress/total"), "integer " + std::to_string(p.total));
    EXPECT_EQ(Value(after, "/progress/inProgress"), "integer " + std::to_string(p.in_progress));
    EXPECT_EQ(Value(after, "/progress/percent"), "integer " + std::to_string(p.percent));
  }
  size_t first = CountItems(before, "/changeLog");
  if (!edits.append_changelog.empty()) {
    EXPECT_EQ(CountItems(after, "/changeLog"), first + edits.append_changelog.size());
  }
  for (size_t i = 0; i < edits.append_changelog.size(); ++i) {
    const ChangeLogEntry& c = edits.append_changelog[i];
    std::string item = "/changeLog/" + std::to_string(first + i);
    EXPECT_EQ(Value(after, item + "/at"), "string " + c.at);
    EXPECT_EQ(Value(after, item + "/actor"), "string " + c.actor);
    EXPECT_EQ(Value(after, item + "/from"), c.from.empty() ? "null" : "string " + c.from);
    EXPECT_EQ(Value(after, item + "/to"), "string " + c.to);
    EXPECT_EQ(Value(after, item + "/reason"), c.reason.empty() ? "(absent)" : "string " + c.reason);
  }
}

// ---------------------------------------------------------------------------
// Helpers for the byte-for-byte tests.

std::string Crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
  return out;
}

// Applies the edits, which must succeed, and runs the generic check.
std::string Edit(std::string_view original, const SpecEdits& edits) {
  Result<std::string> r = ApplyEdits(original, edits);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return "(refused) " + r.error().message;
  ExpectOnlyOwnedChanged(original, *r, edits);
  return *r;
}

std::string Refusal(std::string_view original, const SpecEdits& edits) {
  Result<std::string> r = ApplyEdits(original, edits);
  return r.ok() ? "(accepted)\n" + *r : r.error().message;
}

SpecEdits StatusEdit(std::string status) {
  SpecEdits e;
  e.status = std::move(status);
  return e;
}

ChangeLogEntry Entry(std::string at, std::string from, std::string to, std::string reason = "") {
  return ChangeLogEntry{std::move(at), "specd", std::move(from), std::move(to), std::move(reason), ""};
}

Progress SomeProgress() {
  Progress p;
  p.total = 3;
  p.pending = 1;
  p.in_progress = 1;
  p.done = 1;
  p.percent = 33;
  return p;
}

// ---------------------------------------------------------------------------
// Scalars: style kept, comments kept.

TEST(WriteBack, StatusPlainStaysPlainAndKeepsItsComment) {
  const char* before = R"(# A spec.
id: spec-2026-03-01-001
status: draft   # authors write draft, then review

metadata:
  title: Something worth doing
)";
  const char* after = R"(# A spec.
id: spec-2026-03-01-001
status: in-progress   # authors write draft, then review

metadata:
  title: Something worth doing
)";
  EXPECT_EQ(Edit(before, StatusEdit("in-progress")), after);
}

TEST(WriteBack, QuotedStatusStaysQuoted) {
  EXPECT_EQ(Edit("id: x\nstatus: \"draft\" # c\n", StatusEdit("review")), "id: x\nstatus: \"review\" # c\n");
  EXPECT_EQ(Edit("id: x\nstatus: 'draft'\n", StatusEdit("review")), "id: x\nstatus: 'review'\n");
  EXPECT_EQ(Edit("id: x\nstatus: 'draft'\n", StatusEdit("it's")), "id: x\nstatus: 'it''s'\n");
  EXPECT_EQ(Edit("id: x\nstatus: \"draft\"\n", StatusEdit("say \"hi\"\\")),
            "id: x\nstatus: \"say \\\"hi\\\"\\\\\"\n");
  // A line break cannot be single-quoted on one line: double quotes then.
  EXPECT_EQ(Edit("id: x\nstatus: 'draft'\n", StatusEdit("a\nb")), "id: x\nstatus: \"a\\nb\"\n");
}

TEST(WriteBack, PlainValueIsQuotedOnlyWhenItWouldNotReadBackAsTheSameString) {
  struct Case {
    const char* value;
    const char* written;
  } cases[] = {
      {"in-progress", "in-progress"},
      {"yes", "yes"},
      {"2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"},
      {"true", "\"true\""},
      {"null", "\"null\""},
      {"~", "\"~\""},
      {"017", "\"017\""},
      {"1.5", "\"1.5\""},
      {"a: b", "\"a: b\""},
      {"a #b", "\"a #b\""},
      {"a#b", "a#b"},
      {"-x", "\"-x\""},
      {"*x", "\"*x\""},
      {"[x]", "\"[x]\""},
      {"", "\"\""},
      {" x", "\" x\""},
      {"ends:", "\"ends:\""},
      {"tab\there", "\"tab\\there\""},
      {"日本語", "日本語"},
      {"a, b", "a, b"},
      {"%x", "\"%x\""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Edit("status: draft\n", StatusEdit(c.value)), std::string("status: ") + c.written + "\n")
        << c.value;
  }
}

TEST(WriteBack, ValueThatAlreadyHoldsTheNewValueIsNotTouched) {
  const char* text = "id: x\nstatus: \"draft\"\nmetadata:\n  updatedAt: 2026-03-01T10:00:00Z\n";
  SpecEdits e = StatusEdit("draft");
  e.updated_at = "2026-03-01T10:00:00Z";
  EXPECT_EQ(Edit(text, e), text);
}

TEST(WriteBack, StatusOnTheLineBelowItsKey) {
  EXPECT_EQ(Edit("id: x\nstatus:\n  draft # c\nversion: 1\n", StatusEdit("review")),
            "id: x\nstatus:\n  review # c\nversion: 1\n");
}

TEST(WriteBack, EmptyStatusGetsItsValueAfterTheColon) {
  EXPECT_EQ(Edit("id: x\nstatus:   # to do\nversion: 1\n", StatusEdit("draft")),
            "id: x\nstatus: draft   # to do\nversion: 1\n");
}

TEST(WriteBack, MissingStatusGoesAfterVersion) {
  EXPECT_EQ(Edit("id: x\nversion: \"1.0.0\"\nmetadata:\n  title: t\n", StatusEdit("draft")),
            "id: x\nversion: \"1.0.0\"\nstatus: draft\nmetadata:\n  title: t\n");
}

// ---------------------------------------------------------------------------
// Line endings, BOM, comments, key order.

TEST(WriteBack, CrlfFileStaysCrlfIncludingInsertedLines) {
  const std::string before = Crlf(R"(id: spec-2026-03-01-003
status: review
metadata:
  title: CRLF line endings are fine
  description: |
    A block scalar
    over two lines.
tasks:
  - id: TASK-001
    status: pending
)");
  const std::string after = Crlf(R"(id: spec-2026-03-01-003
status: in-progress
metadata:
  title: CRLF line endings are fine
  description: |
    A block scalar
    over two lines.
  updatedAt: "2026-03-02T10:00:00Z"
tasks:
  - id: TASK-001
    status: in-progress
    assignedTo: worker-1
progress:
  total: 3
  pending: 1
  inProgress: 1
  diffSubmitted: 0
  reviewed: 0
  done: 1
  failed: 0
  blocked: 0
  percent: 33
changeLog:
  - at: "2026-03-02T10:00:00Z"
    actor: specd
    from: review
    to: in-progress
)");
  SpecEdits e = StatusEdit("in-progress");
  e.updated_at = "2026-03-02T10:00:00Z";
  e.tasks.push_back({"TASK-001", "in-progress", std::optional<std::string>("worker-1"), std::nullopt});
  e.progress = SomeProgress();
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "review", "in-progress"));
  std::string out = Edit(before, e);
  EXPECT_EQ(out, after);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\n') {
      ASSERT_TRUE(i > 0 && out[i - 1] == '\r') << "bare LF at byte " << i;
    }
  }
}

TEST(WriteBack, BomIsKept) {
  const std::string bom = "\xEF\xBB\xBF";
  SpecEdits e = StatusEdit("review");
  e.updated_at = "2026-03-02T10:00:00Z";
  EXPECT_EQ(
      Edit(bom + "# c\nid: x\nstatus: draft\nmetadata:\n  author: a\n", e),
      bom + "# c\nid: x\nstatus: review\nmetadata:\n  author: a\n  updatedAt: \"2026-03-02T10:00:00Z\"\n");
}

TEST(WriteBack, CommentsBlankLinesAndOddKeyOrderAreUntouched) {
  const char* before = R"(# Header comment.

metadata:   # metadata first, on purpose
  # the author is a person
  author: a    # trailing
  createdAt: '2026-03-01T09:00:00Z'

  title:   Odd spacing   # kept
status: draft # status after metadata
id: spec-2026-03-01-019

requirements:
  - id: REQ-001  # trailing
    description: "Comments # inside quotes are text."
    acceptanceCriteria: [
      "one",   # a comment inside a flow list
      two,
    ]
    status: pending
  # after the last item, indented like the items
# at the end, at the left margin
)";
  const char* after = R"(# Header comment.

metadata:   # metadata first, on purpose
  # the author is a person
  author: a    # trailing
  createdAt: '2026-03-01T09:00:00Z'

  title:   Odd spacing   # kept
  updatedAt: '2026-03-02T10:00:00Z'
status: review # status after metadata
id: spec-2026-03-01-019

requirements:
  - id: REQ-001  # trailing
    description: "Comments # inside quotes are text."
    acceptanceCriteria: [
      "one",   # a comment inside a flow list
      two,
    ]
    status: pending
progress:
  total: 3
  pending: 1
  inProgress: 1
  diffSubmitted: 0
  reviewed: 0
  done: 1
  failed: 0
  blocked: 0
  percent: 33
changeLog:
  - at: "2026-03-02T10:00:00Z"
    actor: specd
    from: draft
    to: review
  # after the last item, indented like the items
# at the end, at the left margin
)";
  SpecEdits e = StatusEdit("review");
  e.updated_at = "2026-03-02T10:00:00Z";  // quoted like createdAt, its sibling
  e.progress = SomeProgress();
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "draft", "review"));
  EXPECT_EQ(Edit(before, e), after);
}

TEST(WriteBack, FileWithoutFinalNewlineGetsNone) {
  SpecEdits e;
  e.updated_at = "2026-03-02T10:00:00Z";
  EXPECT_EQ(Edit("id: x\nmetadata:\n  author: a", e),
            "id: x\nmetadata:\n  author: a\n  updatedAt: \"2026-03-02T10:00:00Z\"");
}

TEST(WriteBack, DocumentEndMarkerStaysLast) {
  SpecEdits e;
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "", "draft"));
  EXPECT_EQ(Edit("%YAML 1.2\n---\nid: x\nstatus: draft\n...\n# after the end\n", e),
            "%YAML 1.2\n---\nid: x\nstatus: draft\nchangeLog:\n  - at: \"2026-03-02T10:00:00Z\"\n"
            "    actor: specd\n    from: null\n    to: draft\n...\n# after the end\n");
}

// ---------------------------------------------------------------------------
// Tasks.

TEST(WriteBack, TaskFieldsReplacedInsertedAndNulled) {
  const char* before = R"(id: spec-2026-03-01-018
status: in-progress
tasks:
  - id: TASK-001
    status: pending
    assignedTo:     # nobody yet
    files: [a.cc]
  - id: TASK-002
    status: in-progress
    assignedTo: "worker-2"
    diffPath: ~
  - id: TASK-003
    title: Third
    files:
    - b.cc
    - c.cc
)";
  const char* after = R"(id: spec-2026-03-01-018
status: in-progress
tasks:
  - id: TASK-001
    status: in-progress
    assignedTo: worker-1     # nobody yet
    files: [a.cc]
  - id: TASK-002
    status: diff-submitted
    assignedTo: null
    diffPath: .agents/diffs/spec-2026-03-01-018.TASK-002.diff
  - id: TASK-003
    title: Third
    files:
    - b.cc
    - c.cc
    status: pending
    assignedTo: null
    diffPath: .agents/diffs/x.diff
)";
  SpecEdits e;
  e.tasks.push_back({"TASK-001", "in-progress", std::optional<std::string>("worker-1"), std::nullopt});
  e.tasks.push_back({"TASK-002", "diff-submitted", std::optional<std::string>(std::nullopt),
                     ".agents/diffs/spec-2026-03-01-018.TASK-002.diff"});
  e.tasks.push_back({"TASK-003", "pending", std::optional<std::string>(std::nullopt), std::nullopt});
  e.tasks.push_back(
      {"TASK-003", std::nullopt, std::nullopt, ".agents/diffs/x.diff"});  // merges with the one above
  EXPECT_EQ(Edit(before, e), after);
}

TEST(WriteBack, TaskInAFlowMappingIsEditedInPlace) {
  SpecEdits e;
  e.tasks.push_back({"TASK-002", "done", std::optional<std::string>("w-1"), std::nullopt});
  EXPECT_EQ(
      Edit("tasks:\n  - {id: TASK-001, status: pending}\n  - {id: TASK-002, status: pending, assignedTo: }\n",
           e),
      "tasks:\n  - {id: TASK-001, status: pending}\n  - {id: TASK-002, status: done, assignedTo: w-1 }\n");
}

// ---------------------------------------------------------------------------
// Progress.

TEST(WriteBack, ProgressCountsAreSetInPlaceKeepingExtensionsAndComments) {
  const char* before = R"(id: x
tasks: []
# Derived by the engine.
progress:
  total: 2
  done: 1 # one so far
  x-note: computed later
  percent: 50.0

changeLog: []
)";
  const char* after = R"(id: x
tasks: []
# Derived by the engine.
progress:
  total: 3
  done: 1 # one so far
  x-note: computed later
  percent: 33
  pending: 1
  inProgress: 1
  diffSubmitted: 0
  reviewed: 0
  failed: 0
  blocked: 0

changeLog: []
)";
  SpecEdits e;
  e.progress = SomeProgress();
  EXPECT_EQ(Edit(before, e), after);
}

TEST(WriteBack, ProgressInsertedAfterTasks) {
  const char* before = R"(id: x
tasks:
  - id: TASK-001
    description: |
      Literal text.
      # not a comment: part of the text

changeLog:
  - at: "2026-03-01T10:00:00Z"
    actor: a
    to: draft
)";
  const char* after = R"(id: x
tasks:
  - id: TASK-001
    description: |
      Literal text.
      # not a comment: part of the text
progress:
  total: 3
  pending: 1
  inProgress: 1
  diffSubmitted: 0
  reviewed: 0
  done: 1
  failed: 0
  blocked: 0
  percent: 33

changeLog:
  - at: "2026-03-01T10:00:00Z"
    actor: a
    to: draft
)";
  SpecEdits e;
  e.progress = SomeProgress();
  EXPECT_EQ(Edit(before, e), after);
}

TEST(WriteBack, ProgressWithoutTasksGoesBeforeChangeLogInTheFilesIndentation) {
  const char* before = R"(id: x
metadata:
    author: a
changeLog:
- at: "2026-03-01T10:00:00Z"
  to: draft
)";
  const char* after = R"(id: x
metadata:
    author: a
progress:
    total: 3
    pending: 1
    inProgress: 1
    diffSubmitted: 0
    reviewed: 0
    done: 1
    failed: 0
    blocked: 0
    percent: 33
changeLog:
- at: "2026-03-01T10:00:00Z"
  to: draft
- at: "2026-03-02T10:00:00Z"
  actor: specd
  from: draft
  to: review
)";
  SpecEdits e;
  e.progress = SomeProgress();
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "draft", "review"));
  EXPECT_EQ(Edit(before, e), after);
}

TEST(WriteBack, EmptyProgressBecomesABlockAndFlowProgressStaysFlow) {
  SpecEdits e;
  e.progress = SomeProgress();
  EXPECT_EQ(Edit("id: x\nprogress: {}  # none yet\n", e),
            "id: x\nprogress:  # none yet\n  total: 3\n  pending: 1\n  inProgress: 1\n  diffSubmitted: 0\n"
            "  reviewed: 0\n  done: 1\n  failed: 0\n  blocked: 0\n  percent: 33\n");
  EXPECT_EQ(
      Edit("id: x\nprogress: {total: 1, pending: 0, inProgress: 0, diffSubmitted: 0, reviewed: 0, done: 1, "
           "failed: 0, blocked: 0, percent: 100}\n",
           e),
      "id: x\nprogress: {total: 3, pending: 1, inProgress: 1, diffSubmitted: 0, reviewed: 0, done: 1, "
      "failed: 0, blocked: 0, percent: 33}\n");
}

// ---------------------------------------------------------------------------
// changeLog.

TEST(WriteBack, ChangeLogAppendedAfterTheLastItemsLastContentLine) {
  const char* before = R"(id: x
changeLog:
  - at: "2026-03-01T10:00:00Z"
    actor: a
    from: null
    to: draft
  -   at: '2026-03-01T11:00:00Z'
      actor: a
      from: draft
      to: review
      reason: |+
        Ready.

  # a comment after the items, at their indentation
# a comment at the left margin
x-after: kept
)";
  const char* after = R"(id: x
changeLog:
  - at: "2026-03-01T10:00:00Z"
    actor: a
    from: null
    to: draft
  -   at: '2026-03-01T11:00:00Z'
      actor: a
      from: draft
      to: review
      reason: |+
        Ready.

  -   at: '2026-03-02T10:00:00Z'
      actor: specd
      from: review
      to: approved
      reason: "Looks right: ship it # now, naïve café ✓"
  -   at: '2026-03-02T10:00:01Z'
      actor: specd
      from: approved
      to: planning
  # a comment after the items, at their indentation
# a comment at the left margin
x-after: kept
)";
  SpecEdits e;
  e.append_changelog.push_back(
      Entry("2026-03-02T10:00:00Z", "review", "approved", "Looks right: ship it # now, naïve café ✓"));
  e.append_changelog.push_back(Entry("2026-03-02T10:00:01Z", "approved", "planning"));
  EXPECT_EQ(Edit(before, e), after);
}

TEST(WriteBack, ChangeLogCreatedWhenAbsent) {
  const char* before = "id: x\nrequirements:\n    - id: REQ-001\n      status: pending\n";
  const char* after =
      "id: x\nrequirements:\n    - id: REQ-001\n      status: pending\nchangeLog:\n    - at: "
      "\"2026-03-02T10:00:00Z\"\n"
      "      actor: specd\n      from: null\n      to: draft\n      reason: Created.\n";
  SpecEdits e;
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "", "draft", "Created."));
  EXPECT_EQ(Edit(before, e), after);
}

TEST(WriteBack, ChangeLogFromEmptyFlowListOrNull) {
  SpecEdits e;
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "draft", "review"));
  const char* items =
      "\n  - at: \"2026-03-02T10:00:00Z\"\n    actor: specd\n    from: draft\n    to: review\n";
  EXPECT_EQ(Edit("id: x\nchangeLog: [] # none yet\nx-y: 1\n", e),
            std::string("id: x\nchangeLog: # none yet") + items + "x-y: 1\n");
  EXPECT_EQ(Edit("id: x\nchangeLog: ~\n", e), std::string("id: x\nchangeLog:") + items);
  EXPECT_EQ(Edit("id: x\nchangeLog:\n", e), std::string("id: x\nchangeLog:") + items);
}

TEST(WriteBack, ChangeLogOfFlowItemsGetsAFlowItem) {
  const char* before = R"(changeLog:
  - {at: "2026-03-01T10:00:00z", actor: a, to: draft}
)";
  const char* after = R"(changeLog:
  - {at: "2026-03-01T10:00:00z", actor: a, to: draft}
  - {at: "2026-03-02T10:00:00Z", actor: specd, from: draft, to: review, reason: "a, b: c"}
)";
  SpecEdits e;
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "draft", "review", "a, b: c"));
  EXPECT_EQ(Edit(before, e), after);
}

// ---------------------------------------------------------------------------
// metadata.updatedAt.

TEST(WriteBack, UpdatedAtReplacedInItsOwnStyle) {
  SpecEdits e;
  e.updated_at = "2026-03-02T10:00:00.5+01:00";
  EXPECT_EQ(Edit("metadata:\n  updatedAt: \"2026-03-01T10:00:00Z\" # engine\n  author: a\n", e),
            "metadata:\n  updatedAt: \"2026-03-02T10:00:00.5+01:00\" # engine\n  author: a\n");
  EXPECT_EQ(Edit("metadata:\n  updatedAt: 2026-03-01t10:00:00z\n", e),
            "metadata:\n  updatedAt: 2026-03-02T10:00:00.5+01:00\n");
  EXPECT_EQ(Edit("metadata: {author: a, updatedAt: x}\n", e),
            "metadata: {author: a, updatedAt: \"2026-03-02T10:00:00.5+01:00\"}\n");
}

TEST(WriteBack, UpdatedAtInsertedAfterTheLastEntryKeepingABlockScalarsTrailingLines) {
  const char* before = R"(metadata:
  author: a
  description: |+
    Keeps its trailing newlines.


# requirements follow
requirements: []
)";
  const char* after = R"(metadata:
  author: a
  description: |+
    Keeps its trailing newlines.


  updatedAt: "2026-03-02T10:00:00Z"
# requirements follow
requirements: []
)";
  SpecEdits e;
  e.updated_at = "2026-03-02T10:00:00Z";
  EXPECT_EQ(Edit(before, e), after);
}

// ---------------------------------------------------------------------------
// Refusals: each with its exact message.

TEST(WriteBack, RefusesStatusWrittenAsAnAlias) {
  EXPECT_EQ(
      Refusal("x-default: &s draft\nstatus: *s\n", StatusEdit("review")),
      "cannot edit /status (line 2, column 9): it is an alias (*s); write the value itself so the engine can "
      "change it");
  EXPECT_EQ(Refusal("status: &s draft\nx-copy: *s\n", StatusEdit("review")),
            "cannot edit /status (line 1, column 9): it carries an anchor or a tag (&s); write the bare "
            "value so the "
            "engine can change it");
}

TEST(WriteBack, RefusesValuesThatCannotBeEditedOnOneLine) {
  EXPECT_EQ(
      Refusal("status: >-\n  draft\n", StatusEdit("review")),
      "cannot edit /status (line 1, column 9): it is a block scalar ('|' or '>'); write it on one line");
  EXPECT_EQ(Refusal("status: in\n  progress\n", StatusEdit("review")),
            "cannot edit /status (line 1, column 9): it spans several lines; write it on one line");
  EXPECT_EQ(Refusal("status: {a: 1}\n", StatusEdit("review")),
            "cannot edit /status (line 1, column 9): it is a mapping, not a single value");
  EXPECT_EQ(Refusal("? status\n: draft\n", StatusEdit("review")),
            "cannot edit /status (line 1, column 3): its key is not written as 'key: value' on one line; "
            "write it so");
}

TEST(WriteBack, RefusesInsertingIntoAFlowMapping) {
  SpecEdits e;
  e.updated_at = "2026-03-02T10:00:00Z";
  EXPECT_EQ(
      Refusal("id: x\nmetadata: {title: T, author: a}\n", e),
      "cannot add /metadata/updatedAt: /metadata (line 2, column 11) is a flow mapping ({...}); write it in "
      "block style so the engine can add a line");
  SpecEdits p;
  p.progress = SomeProgress();
  EXPECT_EQ(
      Refusal("{id: x, status: draft}\n", p),
      "cannot add /progress: the top-level mapping (line 1, column 1) is a flow mapping ({...}); write it in "
      "block style so the engine can add a line");
}

TEST(WriteBack, RefusesAppendingToAFlowList) {
  SpecEdits e;
  e.append_changelog.push_back(Entry("t", "a", "b"));
  EXPECT_EQ(
      Refusal("changeLog: [{at: t, actor: a, to: b}]\n", e),
      "cannot edit /changeLog (line 1, column 12): it is a flow list ([...]); write it in block style so the "
      "engine can add items");
}

TEST(WriteBack, RefusesUnknownOrDuplicateTaskIds) {
  SpecEdits e;
  e.tasks.push_back({"TASK-009", "done", std::nullopt, std::nullopt});
  EXPECT_EQ(Refusal("tasks:\n  - id: TASK-001\n    status: pending\n", e),
            "no task with id 'TASK-009' in /tasks");
  EXPECT_EQ(Refusal("id: x\n", e), "no task with id 'TASK-009' in /tasks");
  EXPECT_EQ(Refusal("tasks:\n  - id: TASK-009\n  - id: TASK-009\n", e),
            "task id 'TASK-009' appears more than once in /tasks");
}

TEST(WriteBack, RefusesEditsInsideANodeSharedThroughAnAlias) {
  SpecEdits e;
  e.tasks.push_back({"TASK-001", "done", std::nullopt, std::nullopt});
  EXPECT_EQ(Refusal("tasks:\n  - &t\n    id: TASK-001\n    status: pending\nx-again: [*t]\n", e),
            "cannot edit /tasks/0 (line 2, column 5): an alias elsewhere refers to it; the engine will not "
            "change both");
}

TEST(WriteBack, RefusesAFileThatDoesNotLoad) {
  EXPECT_EQ(Refusal("id: x\nstatus: \"draft\n", StatusEdit("review")),
            "the file does not load (line 2, column 9): the string started here with '\"' is not closed");
  EXPECT_EQ(
      Refusal("id: x\nid: y\n", StatusEdit("review")),
      "the file does not load (line 2, column 1): duplicate key 'id' (first defined at line 1, column 1)");
  EXPECT_EQ(Refusal("status: dr\xC3(ft\n", StatusEdit("review")).substr(0, 41),
            "the file does not load (line 1, column 11");
}

// The self-check: a clip block scalar that ends the file without a final
// line break would gain one from any line added after it.
TEST(WriteBack, RefusesAnEditThatWouldChangeAnotherField) {
  SpecEdits e;
  e.append_changelog.push_back(Entry("2026-03-02T10:00:00Z", "draft", "review"));
  EXPECT_EQ(Refusal("id: x\nnotes: |\n  No final line break.", e),
            "cannot write back safely: the edit would also change /notes; the file is left alone");
}

TEST(WriteBack, RefusesANewValueThatIsNotUtf8) {
  EXPECT_EQ(Refusal("status: draft\n", StatusEdit("bad\xFF")),
            "the new value for /status is not valid UTF-8");
}

// ---------------------------------------------------------------------------
// Every valid fixture and demo spec: a typical edit set applies, changes only
// the owned fields, keeps a valid spec valid, and applying it again changes
// nothing but changeLog.

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<fs::path> SpecFiles() {
  std::vector<fs::path> files;
  const fs::path root = fs::path(SPECD_SOURCE_DIR) / "fixtures";
  for (const char* dir : {"valid", "demo"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      fs::path p = entry.path();
      if (p.extension() == ".yaml" || p.extension() == ".yml") files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

SpecEdits TypicalEdits(std::string_view text) {
  Flat flat = FlattenText(text);
  SpecEdits e = StatusEdit("cancelled");  // allowed from any non-terminal state, needs no tasks
  if (Value(flat, "/tasks/0/id").rfind("string ", 0) == 0) {
    e.tasks.push_back({Value(flat, "/tasks/0/id").substr(7), "blocked", std::nullopt, std::nullopt});
  }
  e.progress = SomeProgress();
  e.append_changelog.push_back(
      Entry("2026-03-02T10:00:00Z", "planning", "cancelled", "Dropped: no longer needed"));
  e.updated_at = "2026-03-02T10:00:00Z";
  return e;
}

size_t ErrorCount(const std::string& bytes, const fs::path& path) {
  size_t n = 0;
  for (const Diagnostic& d : ValidateSpecText(bytes, path.string(), ValidateOptions{}))
    n += d.severity == Severity::kError;
  return n;
}

TEST(WriteBackFixtures, TypicalEditsChangeOnlyOwnedFieldsAndAreIdempotent) {
  // Its every mapping is a flow mapping: nothing can be inserted.
  const std::string flow_only = "flow-style";
  std::vector<fs::path> files = SpecFiles();
  ASSERT_GE(files.size(), 25u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.string());
    const std::string original = ReadBytes(path);
    SpecEdits edits = TypicalEdits(original);
    if (path.parent_path().filename() == flow_only) {
      EXPECT_EQ(
          Refusal(original, edits),
          "cannot add /metadata/updatedAt: /metadata (line 2, column 12) is a flow mapping ({...}); write it "
          "in block style so the engine can add a line");
      edits.updated_at.reset();
      edits.progress.reset();
      edits.append_changelog.clear();
    }
    const std::string once = Edit(original, edits);
    ASSERT_NE(once, original);
    if (path.parent_path().filename() != "templates") {
      EXPECT_EQ(ErrorCount(once, path), ErrorCount(original, path));
    }

    SpecEdits again = edits;
    again.append_changelog.clear();
    EXPECT_EQ(Edit(once, again), once) << "re-applying status, task, progress and updatedAt changes nothing";
    if (!edits.append_changelog.empty()) {
      const std::string twice = Edit(once, edits);
      EXPECT_EQ(CountItems(FlattenText(twice), "/changeLog"),
                CountItems(FlattenText(once), "/changeLog") + 1);
    }
  }
}

}  // namespace
}  // namespace specd
