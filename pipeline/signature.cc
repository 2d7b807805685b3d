#include "pipeline/signature.h"

#include <git2.h>
#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "engine/state_machine.h"
#include "pipeline/gate_runner.h"
#include "pipeline/git_apply.h"

namespace specd::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kVerifyTimeoutMs = 60'000;

std::string LastLine(const std::string& text) {
  std::string last;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) last = line;
  return last.empty() ? "no output" : last;
}

}  // namespace

std::string CommitSignatureProblem(git_repository* repo, const git_oid& oid, const std::string& principal,
                                   const std::string& allowed_signers_file,
                                   const std::string& allowed_signers) {
  git_buf signature = {nullptr, 0, 0}, signed_data = {nullptr, 0, 0};
  const int rc =
      git_commit_extract_signature(&signature, &signed_data, repo, const_cast<git_oid*>(&oid), nullptr);
  if (rc == GIT_ENOTFOUND) return "the commit is not signed";
  if (rc != 0) return GitError("cannot read the commit's signature").message;
  const std::string sig(signature.ptr, signature.size), data(signed_data.ptr, signed_data.size);
  git_buf_dispose(&signature);
  git_buf_dispose(&signed_data);
  const bool ssh = sig.rfind("-----BEGIN SSH SIGNATURE-----", 0) == 0;
  const bool gpg = sig.rfind("-----BEGIN PGP SIGNATURE-----", 0) == 0;
  if (!ssh && !gpg) return "the commit's signature is neither SSH nor GPG";
  if (ssh && allowed_signers_file.empty())
    return "an SSH signature is checked against allowedSignersFile, and the settings name none";
  if (ssh && allowed_signers.empty())
    return "the allowed signers file " + allowed_signers_file + " is missing or empty";
  const char* tmp = getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/specd-verify-XXXXXX";
  if (!mkdtemp(dir.data())) return "cannot make a temporary directory to check the signature";
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  for (const auto& [name, bytes] :
       {std::pair{"signature", &sig}, {"signed", &data}, {"allowed_signers", &allowed_signers}}) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out << *bytes;
    if (!out.flush()) return "cannot write " + dir + "/" + name;
  }
  GateCommand cmd;
  cmd.name = "signature";
  cmd.timeout_ms = cmd.quiet_ms = kVerifyTimeoutMs;
  // As git verify-commit: the key must have been valid when the commit was
  // made (an expired key does not void old approvals).
  git_commit* c = nullptr;
  char when[32] = "";
  if (git_commit_lookup(&c, repo, &oid) == 0) {
    const time_t t = static_cast<time_t>(git_commit_time(c));
    struct tm utc;
    gmtime_r(&t, &utc);
    strftime(when, sizeof when, "%Y%m%d%H%M%SZ", &utc);
    git_commit_free(c);
  }
  cmd.run =
      ssh ? "ssh-keygen -Y verify -f allowed_signers -I " + ShellQuote(principal) + " -n git" +
                (*when ? std::string(" -Overify-time=") + when : "") + " -s signature < signed"
          : "gpg --batch --no-tty --no-auto-key-retrieve --status-file status --verify signature signed";
  GateRunOptions run;
  run.workdir = dir;
  run.log_path = dir + "/log";
  Result<GateResult> result = RunGate(cmd, run);
  if (!result.ok())
    return "cannot run " + std::string(ssh ? "ssh-keygen" : "gpg") + ": " + result.error().message;
  std::string out;
  {
    std::ifstream in(run.log_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
  }
  if (result->outcome != GateOutcome::kPass)
    return std::string(ssh ? "ssh-keygen" : "gpg") + " does not accept it (" + LastLine(out) + ")";
  if (ssh) return "";
  // gpg says whose key it is (its own status lines, apart from what it
  // prints): a good signature by a key the keyring trusts fully, whose
  // user id's email is the principal.
  std::ifstream status(dir + "/status");
  std::string uid;
  bool trusted = false;
  for (std::string line; std::getline(status, line);) {
    constexpr std::string_view kGood = "[GNUPG:] GOODSIG ";
    if (line.rfind(kGood, 0) == 0) {
      const size_t space = line.find(' ', kGood.size());
      uid = space == std::string::npos ? "" : line.substr(space + 1);
    }
    trusted = trusted || line.rfind("[GNUPG:] TRUST_FULLY", 0) == 0 ||
              line.rfind("[GNUPG:] TRUST_ULTIMATE", 0) == 0;
  }
  if (uid.empty()) return "gpg reports no good signature (" + LastLine(out) + ")";
  const size_t lt = uid.rfind('<'), gt = uid.rfind('>');
  const std::string email = lt != std::string::npos && gt > lt ? uid.substr(lt + 1, gt - lt - 1) : "";
  if (!SamePerson(principal, email)) return "it is signed by " + uid + ", not by " + principal;
  if (!trusted) return "it is signed by " + uid + " with a key the keyring does not trust fully";
  return "";
}

}  // namespace specd::pipeline
