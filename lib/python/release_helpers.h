#pragma once
// Release helpers (`def release(conn): conn.close()`) live anywhere, often in a module that names
// no acquirer and so is never analysed for one. Such a function matters only where a handle is
// passed to it. After each round, the files with findings say which functions they hand a
// finding's variable to (`release(conn)`, `pool.release_quietly(a, conn)`); a file not analysed
// yet is analysed when it defines one of them (`def release(`) and that definition releases one
// of its parameters (`conn.close(`, `putconn(conn`) in the lines that follow. The analysis then
// decides, as for any file: this only chooses which files it reads.
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/finding.h"

namespace leakfix::python {

// The names of the functions `text` passes a variable of `findings` to, as an argument written
// on the same line as the call's opening bracket.
std::vector<std::string> handle_callees(std::string_view text, const std::vector<Finding>& findings);

// Whether `text` defines a function named in `called` that releases one of its parameters, by a
// method in `releases` (`p.close(`) or a function (`putconn(p`).
bool defines_release_helper(std::string_view text, const std::set<std::string, std::less<>>& called,
                            const std::set<std::string, std::less<>>& releases);

}  // namespace leakfix::python
