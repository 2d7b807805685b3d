// One spec file as the engine read it: bytes, stamp, hash, and what
// validation made of them. Shared by the engine's own files (engine.cc,
// facts.cc, apply.cc, verbs.cc); not part of its interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/spec_model.h"
#include "schema/diagnostic.h"
#include "schema/yaml_tree.h"

namespace specd {

struct SpecEngine::Loaded {
  std::string bytes;
  FileStamp stamp;
  bool settled = false;  // StampIsSettled: the stamp may be journaled (else an empty one is)
  std::string hash;
  std::vector<Diagnostic> diags;
  Document doc;
  bool valid = false;
  bool yaml = false;  // Parse found YAML (valid or not)
  SpecModel model;
  std::optional<Diagnostic> not_read;  // Read refused the file (a symlink out, a FIFO, too large): why
};

bool HasError(const std::vector<Diagnostic>& diags);
FileStamp StampOf(const SpecRecord& r);
void SetStamp(SpecRecord* r, const FileStamp& s);

// The stamp to journal for what was read: an empty one, which no file
// matches, when a later write could leave the same stamp.
inline FileStamp SpecEngine::KeptStamp(const Loaded& f) {
  return f.settled ? f.stamp : FileStamp{};
}

// Runs `body` holding the journal's write lock (one group): no other specd
// process (a verb, a hook, a watcher) can read a file and decide on it
// between this one's reading the journal and journaling what it did to the
// file, so a change is never recorded twice. Sinks hear the events once the
// group is committed. A call inside a group joins it.
template <typename T, typename Body>
Result<T> SpecEngine::Locked(Body body) {
  if (held_events_) return body();
  if (Status s = journal_->BeginGroup(); !s.ok()) return s.error();
  std::vector<EngineEvent> held;
  held_events_ = &held;
  Result<T> result = body();
  held_events_ = nullptr;
  if (Status s = journal_->EndGroup(); !s.ok()) return s.error();
  for (const EngineEvent& e : held) {
    for (EventSink* sink : sinks_) sink->OnEvent(e);
  }
  return result;
}

}  // namespace specd
