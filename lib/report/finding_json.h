#pragma once
// A finding as the JSON contract writes it, for every JSON document that carries findings.
#include <nlohmann/json.hpp>

#include "core/finding.h"

namespace leakfix {

class JsonStream;

// The members of a finding's object, written into an object the caller has opened.
void write_finding_members(JsonStream& out, const Finding& f);
// The same object as a value to add to.
nlohmann::ordered_json finding_json(const Finding& f);

}  // namespace leakfix
