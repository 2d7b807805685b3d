// The systemd user unit that runs `specd watch` for one repository (issue 4:
// `specd service install`). Pure text: what the unit is called, what it
// holds, and how a path is written so systemd reads it back unchanged. The
// CLI writes the file and talks to systemctl.
#pragma once

#include <string>

#include "schema/result.h"

namespace specd {

// "specd-watch-<name>-<8 hex>.service": <name> is the root's last component
// with every byte outside [A-Za-z0-9_.-] made '_' (at most 64 of them;
// "root" for "/"), the hex the first 8 of sha256(root), so two checkouts
// with the same name get two units.
std::string ServiceUnitName(const std::string& repo_root);

// `s` with every '%' doubled: systemd expands %-specifiers in most settings.
std::string EscapeSpecifiers(const std::string& s);

// One argument of an Exec*= command line: '%' -> "%%" and '$' -> "$$" always
// (specifiers and environment variables), and the whole word in double
// quotes, '\' and '"' backslash-escaped, when it holds whitespace, quotes,
// a backslash or ';', or is empty.
std::string QuoteExecArgument(const std::string& word);

// The executable of an Exec*= line: as an argument, except that '$' stays
// (systemd expands no variables in it). systemd refuses an executable path
// holding a quote or a backslash, so ServiceUnitText refuses those first.
std::string QuoteExecPath(const std::string& path);

// The unit file's bytes: Type=notify, ExecStart=`specd_binary` watch --repo
// `repo_root`, WorkingDirectory, restart on failure, the watchdog, and
// WantedBy=default.target. An Error when a path holds a control character
// (a newline would end the setting), ends with a space or a backslash, or
// is not absolute, or the binary's path holds a quote or a backslash.
Result<std::string> ServiceUnitText(const std::string& specd_binary, const std::string& repo_root);

}  // namespace specd
