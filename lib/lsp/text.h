#pragma once
// What LSP's text positions and document URIs mean in terms of leakfix's bytes and paths.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace leakfix::lsp {

// How a position's `character` counts: UTF-16 code units unless the client offers another
// (LSP 3.17 `positionEncodings`).
enum class Encoding { Utf16, Utf8, Utf32 };
std::string_view to_string(Encoding e);

// Code units of `line`'s first `bytes` bytes (UTF-8).
int units_of(std::string_view line, std::size_t bytes, Encoding e);
// The byte offset in `line` of the code unit `units`; the line's length past its end, and the
// start of a character whose second UTF-16 unit it points into.
std::size_t bytes_of(std::string_view line, int units, Encoding e);

// The path of a `file:` URI, percent-decoded; nullopt for any other scheme.
std::optional<std::string> path_of_uri(std::string_view uri);
// `file://` and the absolute path, with what is not unreserved (or `/`) percent-encoded.
std::string uri_of_path(std::string_view absolute_path);

// The smallest edit that turns `before` into `after`, as whole lines: an LSP TextEdit
// ({range, newText}); its positions are at line starts but for the end of a text that does
// not end in a newline. nullopt when they are equal.
std::optional<nlohmann::json> line_edit(std::string_view before, std::string_view after, Encoding e);

}  // namespace leakfix::lsp
