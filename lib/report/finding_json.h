#pragma once
// A finding as the JSON contract writes it, for every JSON document that carries findings.
#include <nlohmann/json.hpp>

#include "core/finding.h"

namespace leakfix {

nlohmann::ordered_json finding_json(const Finding& f);

}  // namespace leakfix
