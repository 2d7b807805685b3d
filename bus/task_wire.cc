#include "bus/task_wire.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#include "bus/event_message.h"

namespace specd {

namespace {

using Json = nlohmann::json;

std::string Text(const Json& j, const char* key) {
  auto at = j.find(key);
  return at != j.end() && at->is_string() ? at->get<std::string>() : std::string();
}

int64_t Int(const Json& j, const char* key) {
  auto at = j.find(key);
  return at != j.end() && at->is_number_integer() ? at->get<int64_t>() : 0;
}

const char* CodeName(ErrorCode c) {
  switch (c) {
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kPermission:
      return "permission";
    case ErrorCode::kAlreadyExists:
      return "already-exists";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kInvalid:
      return "invalid";
    case ErrorCode::kOther:
      break;
  }
  return "other";
}

ErrorCode CodeOf(const std::string& name) {
  for (ErrorCode c : {ErrorCode::kConflict, ErrorCode::kNotFound, ErrorCode::kPermission,
                      ErrorCode::kAlreadyExists, ErrorCode::kBusy, ErrorCode::kInvalid}) {
    if (name == CodeName(c)) return c;
  }
  return ErrorCode::kOther;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kBase64[(v >> shift) & 63];
  }
  if (i < in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (i + 1 < in.size() ? uint8_t(in[i + 1]) << 8 : 0);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> FromBase64(const std::string& in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  uint32_t v = 0;
  int bits = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '=') {
      if (i + 2 < in.size()) return std::nullopt;
      break;
    }
    const char* at = std::strchr(kBase64, c);
    if (!at || c == '\0') return std::nullopt;
    v = (v << 6) | static_cast<uint32_t>(at - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string TaskVerbSubject(const std::string& prefix, const std::string& repo, const std::string& verb) {
  return BusSubject(prefix, "specd." + repo + "." + verb);
}

std::string HeartbeatSubject(const std::string& prefix, const std::string& worker) {
  // A name is free text ("HOST-PID"): what a subject cannot hold becomes '_'
  // (the worker is named in the request itself).
  std::string token;
  for (char c : worker)
    token += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  return BusSubject(prefix, "heartbeat." + (token.empty() ? std::string("_") : token));
}

std::string EncodeRequest(const TaskRequest& r) {
  Json j = Json::object();
  for (auto [key, value] : {std::pair{"id", &r.id},
                            {"worker", &r.worker},
                            {"spec", &r.spec},
                            {"task", &r.task},
                            {"token", &r.token},
                            {"reason", &r.reason},
                            {"tail", &r.tail},
                            {"title", &r.title},
                            {"repo", &r.repo}}) {
    if (!value->empty()) j[key] = *value;
  }
  if (!r.patch.empty()) j["patch64"] = Base64(r.patch);
  return Dump(j);
}

std::optional<TaskRequest> DecodeRequest(std::string_view data) {
  Json j = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  std::optional<std::string> patch = FromBase64(Text(j, "patch64"));
  if (!patch) return std::nullopt;
  TaskRequest r{Text(j, "id"),     Text(j, "worker"), Text(j, "spec"), Text(j, "task"), Text(j, "token"),
                Text(j, "reason"), Text(j, "tail"),   *patch,          Text(j, "title")};
  r.repo = Text(j, "repo");
  return r;
}

std::string EncodeAnswer(const TaskAnswer& a) {
  if (a.error)
    return Dump(Json{{"ok", false}, {"code", CodeName(a.error->code)}, {"message", a.error->message}});
  const TaskReply& r = a.reply;
  const LeaseRecord& l = r.lease;
  Json lease = {{"spec", l.spec_id},       {"task", l.task_id},       {"epoch", l.epoch},
                {"worker", l.worker},      {"token", l.token},        {"base", l.base},
                {"claimed", l.claimed_ms}, {"expires", l.expires_ms}, {"ended", l.ended_ms},
                {"outcome", l.outcome},    {"reason", l.reason}};
  Json reply = {
      {"refused", r.refused}, {"nothingReady", r.nothing_ready}, {"lease", lease},         {"files", r.files},
      {"title", r.title},     {"specStatus", r.spec_status},     {"diffPath", r.diff_path}};
  Json out = {{"ok", true}, {"reply", reply}};
  if (!a.brief_error.empty()) out["briefError"] = a.brief_error;
  if (a.brief) {
    out["brief"] = {{"spec", a.brief->spec_bytes},
                    {"trace", a.brief->trace_id},
                    {"similarFailures", a.brief->similar_failures},
                    {"attempt", a.brief->attempt}};
  }
  return Dump(out);
}

Result<TaskAnswer> DecodeAnswer(std::string_view data) {
  Json j = Json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
    return Error{"the coordinator's answer is not one specd understands", ErrorCode::kInvalid};
  TaskAnswer a;
  if (!j["ok"].get<bool>()) {
    a.error = Error{Text(j, "message"), CodeOf(Text(j, "code"))};
    return a;
  }
  const Json& r = j.contains("reply") && j["reply"].is_object() ? j["reply"] : Json::object();
  const Json& l = r.contains("lease") && r["lease"].is_object() ? r["lease"] : Json::object();
  a.reply.refused = Text(r, "refused");
  a.reply.nothing_ready = r.value("nothingReady", false);
  a.reply.title = Text(r, "title");
  a.reply.spec_status = Text(r, "specStatus");
  a.reply.diff_path = Text(r, "diffPath");
  if (auto f = r.find("files"); f != r.end() && f->is_array()) {
    for (const Json& x : *f)
      if (x.is_string()) a.reply.files.push_back(x.get<std::string>());
  }
  LeaseRecord& lease = a.reply.lease;
  lease.spec_id = Text(l, "spec");
  lease.task_id = Text(l, "task");
  lease.epoch = Int(l, "epoch");
  lease.worker = Text(l, "worker");
  lease.token = Text(l, "token");
  lease.base = Text(l, "base");
  lease.claimed_ms = Int(l, "claimed");
  lease.expires_ms = Int(l, "expires");
  lease.ended_ms = Int(l, "ended");
  lease.outcome = Text(l, "outcome");
  lease.reason = Text(l, "reason");
  a.brief_error = Text(j, "briefError");
  if (auto b = j.find("brief"); b != j.end() && b->is_object()) {
    a.brief =
        AttemptBrief{Text(*b, "spec"), Text(*b, "trace"), Text(*b, "similarFailures"), Int(*b, "attempt")};
  }
  return a;
}

}  // namespace specd
