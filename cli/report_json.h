// The --format json rendering of a validate report.
#pragma once

#include <string>

#include "engine/validate_run.h"

namespace specd::cli {

std::string ReportJson(const ValidateReport& report);

}  // namespace specd::cli
