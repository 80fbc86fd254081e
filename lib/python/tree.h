#pragma once
// The tree-sitter-python parse of one file and small helpers over its nodes.
#include <tree_sitter/api.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/source_file.h"
#include "python/statements.h"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace leakfix::python {

// A flat copy of the tree, made one statement at a time (a top-level statement, or a statement of
// a class body) when the analysis is about to walk that statement: each visible node with its
// parent, first child, next sibling, field and the end of its subtree, and a table from node id
// to entry. The analysis walks a function
// many times (control flow, events, references, the rewrite); tree-sitter's cursor and
// ts_node_child_by_field_id cost more per step than the parse did per node, a flat entry costs
// a load. Anonymous leaves (punctuation, keywords) are not kept: nearly half the nodes, and the
// analysis never walks them; the fields that name one (an operator) ask tree-sitter.
class TreeIndex {
 public:
  static constexpr int32_t kNone = -1;
  struct Entry {
    TSNode node;
    int32_t parent = kNone;  // kNone: the first entry of a statement, see parent(i)
    int32_t first_child = kNone;
    int32_t next_sibling = kNone;
    int32_t end = 0;  // one past the last descendant: a subtree is the range [index, end)
    TSFieldId field = 0;
    TSSymbol symbol = 0;  // ts_node_symbol, asked once
    bool named = false;
  };

  explicit TreeIndex(TSNode root);
  TreeIndex(const TreeIndex&) = delete;
  TreeIndex& operator=(const TreeIndex&) = delete;

  const TSTree* tree() const { return root_.tree; }
  TSNode root() const { return root_; }
  const std::vector<TSNode>& tops() const { return tops_; }
  // Indexes the statement holding n, if it is not yet: the top-level statement, or inside a
  // class the statement of the class body. The analysis covers the statements it is about to
  // walk many times; the rest of the file is never copied.
  void cover(TSNode n);
  // The entry of the smallest node holding `byte` (start <= byte < end) in the statement that
  // holds it, indexing that statement first; kNone when no covered statement holds the byte
  // (a class's own header, a gap between statements).
  int32_t deepest_at(uint32_t byte);
  // The entry of n; kNone for the root and for nodes of statements not covered.
  int32_t find(TSNode n) const;
  // The parent of entry i (for the first entry of a statement, the node above the statement).
  TSNode parent(int32_t i) const;
  // Entries move when a statement is indexed: copy what is needed before calling back.
  const Entry& operator[](int32_t i) const { return nodes_[static_cast<std::size_t>(i)]; }

 private:
  struct Slot {
    const void* id = nullptr;
    int32_t index = kNone;
  };
  int32_t lookup(const void* id) const;
  void insert(const void* id, int32_t index);
  void rehash(std::size_t size);
  void index_unit(TSNode unit, TSNode parent);
  // Indexes the statement holding the bytes [start, end), as cover does; returns its entry.
  int32_t cover_span(uint32_t start, uint32_t end);

  TSNode root_;
  std::vector<TSNode> tops_;
  std::unordered_map<int32_t, TSNode> unit_parents_;  // by the first entry of each statement
  std::vector<Entry> nodes_;
  std::vector<Slot> table_;  // open addressing, a power of two long
  std::size_t used_ = 0;
};

class ParsedFile {
 public:
  explicit ParsedFile(SourceFile source);
  explicit ParsedFile(std::shared_ptr<const SourceFile> source);
  // Parses only the top-level statements an analysis of calls of `names` needs (see
  // statements.h), or the whole file when they are all of it or the part does not parse cleanly.
  static ParsedFile for_calls(std::shared_ptr<const SourceFile> source, const std::vector<std::string>& names);
  // Parses the ranges of a selection; the whole file when there is none or they do not parse
  // cleanly (code that does not parse may have been split where the grammar would not split it).
  static ParsedFile selective(std::shared_ptr<const SourceFile> source, std::optional<Selection> selection);
  ParsedFile(ParsedFile&&) noexcept = default;
  ParsedFile& operator=(ParsedFile&&) noexcept = default;

  const SourceFile& source() const { return *source_; }
  std::shared_ptr<const SourceFile> shared_source() const { return source_; }
  TSNode root() const { return ts_tree_root_node(tree_.get()); }
  std::string_view text(TSNode n) const {
    return source_->text().substr(ts_node_start_byte(n), ts_node_end_byte(n) - ts_node_start_byte(n));
  }
  int line(TSNode n) const { return static_cast<int>(ts_node_start_point(n).row) + 1; }
  int end_line(TSNode n) const { return static_cast<int>(ts_node_end_point(n).row) + 1; }
  // The parent of a node: from the index where it covers the node, else from tree-sitter.
  TSNode parent(TSNode n) const;
  // The nodes from `top` (a child of the root) down to the smallest one holding `byte`.
  std::vector<TSNode> path_to(TSNode top, uint32_t byte) const;
  // A cache that fills as the analysis asks, hence reachable from a const file.
  TreeIndex& index() const { return *index_; }
  // The names of the top-level functions not parsed (for_calls); the tree has none of their
  // nodes.
  const std::vector<std::string>& skipped_functions() const { return skipped_functions_; }
  // The ranges parsed (whole lines); empty when the whole file was.
  const std::vector<TSRange>& parsed_ranges() const { return parsed_ranges_; }

 private:
  struct Unparsed {};
  ParsedFile(std::shared_ptr<const SourceFile> source, Unparsed);
  void parse(const std::vector<TSRange>& ranges);

  struct TreeDeleter {
    void operator()(TSTree* t) const { ts_tree_delete(t); }
  };
  std::shared_ptr<const SourceFile> source_;
  std::unique_ptr<TSTree, TreeDeleter> tree_;
  std::unique_ptr<TreeIndex> index_;  // behind a pointer: Navigators hold its address
  mutable std::unordered_map<const void*, TSNode> fallback_parents_;  // of nodes not indexed
  std::vector<std::string> skipped_functions_;
  std::vector<TSRange> parsed_ranges_;
};

namespace detail {
// The index of the innermost Navigator on this thread. A function-local thread_local: an extern
// one failed UBSan's null check on the store through its TLS wrapper in the unit-test binary.
inline TreeIndex*& active_index() {
  static thread_local TreeIndex* active = nullptr;
  return active;
}
inline TreeIndex* index_for(TSNode n) {
  TreeIndex* ix = active_index();
  return ix && ix->tree() == n.tree ? ix : nullptr;
}
}  // namespace detail

// While a Navigator lives, the helpers below (field, children, preorder) answer for the nodes of
// its file from the file's index; for other trees they ask tree-sitter. Per thread; they nest.
class Navigator {
 public:
  explicit Navigator(const ParsedFile& file) : previous_(detail::active_index()) { detail::active_index() = &file.index(); }
  ~Navigator() { detail::active_index() = previous_; }
  Navigator(const Navigator&) = delete;
  Navigator& operator=(const Navigator&) = delete;

 private:
  TreeIndex* previous_;
};

// The node's type name, from a table built once: ts_node_type returns a C string, and measuring
// it on every comparison showed up in profiles.
std::string_view type(TSNode n);

// A node type or field name as the code writes it, hashed when compiled: `is(n, "call")` and
// `field(n, "body")` compare integers, not strings. The grammar's names hash apart (checked
// when the tables are built).
struct GrammarName {
  consteval GrammarName(const char* s) : text(s), hash(hash_of(text)) {}
  static constexpr uint64_t hash_of(std::string_view s) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
  }
  std::string_view text;
  uint64_t hash;
};

namespace detail {
// The hashes of the grammar's symbol names, by symbol; built before main.
extern const std::vector<uint64_t> type_hashes;
uint64_t type_hash_slow(TSSymbol symbol);
inline uint64_t type_hash(TSSymbol symbol) {
  return symbol < type_hashes.size() ? type_hashes[symbol] : type_hash_slow(symbol);
}
// The node a walk over the index is visiting and its symbol (from the index): the visitor asks
// `is` of that node many times, and ts_node_symbol is a call into tree-sitter each time.
struct KnownSymbol {
  const void* id = nullptr;
  const TSTree* tree = nullptr;
  TSSymbol symbol = 0;
};
inline KnownSymbol& known_symbol() {
  static thread_local KnownSymbol known;
  return known;
}
// Forgets the node when the walk ends (or throws): once its tree is deleted, another tree may
// put another node at the same addresses.
struct ForgetKnownSymbol {
  ForgetKnownSymbol() = default;
  ForgetKnownSymbol(const ForgetKnownSymbol&) = delete;
  ForgetKnownSymbol& operator=(const ForgetKnownSymbol&) = delete;
  ~ForgetKnownSymbol() { known_symbol() = {}; }
};
}  // namespace detail

inline TSSymbol symbol_of(TSNode n) {
  const detail::KnownSymbol& k = detail::known_symbol();
  return n.id == k.id && n.tree == k.tree && n.id ? k.symbol : ts_node_symbol(n);
}
inline bool is(TSNode n, GrammarName t) { return n.id && detail::type_hash(symbol_of(n)) == t.hash; }
// The child in a field. Field ids are looked up once per name: ts_language_field_id_for_name
// compares the name with every field name of the grammar.
TSFieldId field_id(GrammarName name);
TSNode field(TSNode n, TSFieldId id);
inline TSNode field(TSNode n, GrammarName name) { return field(n, field_id(name)); }
inline bool same(TSNode a, TSNode b) { return ts_node_eq(a, b); }
inline const void* node_id(TSNode n) { return n.id; }

// A tree cursor from a per-thread pool: ts_tree_cursor_new allocates, and traversals nest.
class PooledCursor {
 public:
  explicit PooledCursor(TSNode n);
  ~PooledCursor();
  PooledCursor(const PooledCursor&) = delete;
  PooledCursor& operator=(const PooledCursor&) = delete;
  TSTreeCursor* get() { return &cursor_; }

 private:
  TSTreeCursor cursor_;
};

// Calls f(child) for each named child, in order. Walks with a cursor: indexing children with
// ts_node_named_child is linear per call, so quadratic over a long module.
template <typename F>
void for_each_named_child(TSNode n, F&& f) {
  if (ts_node_is_null(n)) return;
  if (TreeIndex* ix = detail::index_for(n)) {
    if (const int32_t i = ix->find(n); i != TreeIndex::kNone) {
      const detail::ForgetKnownSymbol forget;
      for (int32_t c = (*ix)[i].first_child; c != TreeIndex::kNone;) {
        const TreeIndex::Entry e = (*ix)[c];  // a copy: f may index another statement
        if (e.named) {
          detail::known_symbol() = {e.node.id, e.node.tree, e.symbol};
          f(e.node);
        }
        c = e.next_sibling;
      }
      return;
    }
    if (ts_node_eq(n, ix->root())) {
      for (const TSNode top : ix->tops()) {
        if (ts_node_is_named(top)) f(top);
      }
      return;
    }
  }
  if (ts_node_child_count(n) == 0) return;
  PooledCursor pc(n);
  TSTreeCursor* c = pc.get();
  if (ts_tree_cursor_goto_first_child(c)) {
    do {
      TSNode child = ts_tree_cursor_current_node(c);
      if (ts_node_is_named(child)) f(child);
    } while (ts_tree_cursor_goto_next_sibling(c));
  }
}

// Children that are statements or expressions, skipping comments.
std::vector<TSNode> code_children(TSNode n);

// Unwraps parentheses and `await` around an expression.
TSNode unwrap(TSNode n);

// Visits n and its named descendants in pre-order without recursion (deep expressions are
// common in generated code). `visit` returns false to skip a node's children.
template <typename F>
void preorder(TSNode n, F&& visit) {
  if (ts_node_is_null(n)) return;
  if (TreeIndex* ix = detail::index_for(n)) {
    if (const int32_t i = ix->find(n); i != TreeIndex::kNone) {
      // A subtree is a range of entries in pre-order; skipping one's children jumps to its end.
      const detail::ForgetKnownSymbol forget;
      const int32_t end = (*ix)[i].end;
      for (int32_t j = i; j < end;) {
        const TreeIndex::Entry e = (*ix)[j];
        if (e.named) detail::known_symbol() = {e.node.id, e.node.tree, e.symbol};
        j = (!e.named || visit(e.node)) ? j + 1 : e.end;
      }
      return;
    }
  }
  PooledCursor pc(n);
  TSTreeCursor* c = pc.get();
  for (;;) {
    TSNode cur = ts_tree_cursor_current_node(c);
    const bool descend = !ts_node_is_named(cur) || visit(cur);
    if (descend && ts_tree_cursor_goto_first_child(c)) continue;
    bool moved = false;
    while (!moved) {
      if (ts_tree_cursor_goto_next_sibling(c)) {
        moved = true;
      } else if (!ts_tree_cursor_goto_parent(c)) {
        return;
      }
    }
  }
}

bool is_scope(TSNode n);       // function_definition, lambda, class_definition, module
// A block, a statement or a clause: what can hold a block. Expressions never do (a lambda's
// body is an expression), so a search for blocks need not enter them.
bool may_hold_block(TSNode n);
bool is_comprehension(TSNode n);

}  // namespace leakfix::python
