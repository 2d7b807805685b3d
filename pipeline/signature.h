// Whether a commit is signed by a given person, as the tools git uses say:
// an SSH signature by `ssh-keygen -Y verify` against an allowed signers
// file (namespace git, the key valid at the commit's time, as `git
// verify-commit` checks it), a GPG one by `gpg --verify` with the keyring
// in GNUPGHOME (no key fetched; fully or ultimately trusted; the user id's
// email is the person). The tool runs through the gate runner: a session of
// its own, stdin /dev/null, a timeout. What `specd audit` asks
// (pipeline/audit.h).
#pragma once

#include <string>

struct git_repository;
struct git_oid;

namespace specd::pipeline {

// "" when `commit` carries such a signature of `principal`; else why not,
// in one line. `allowed_signers_file` is the setting's value (named in the
// reason), `allowed_signers` that file's bytes.
std::string CommitSignatureProblem(git_repository* repo, const git_oid& commit, const std::string& principal,
                                   const std::string& allowed_signers_file,
                                   const std::string& allowed_signers);

}  // namespace specd::pipeline
