#pragma once
#include <string_view>

namespace leakfix {

// Shell-style match of a '/'-separated path: `*` and `?` stay inside one segment, `**` spans
// segments, `[abc]`/`[!a-z]` are character classes.
bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace leakfix
