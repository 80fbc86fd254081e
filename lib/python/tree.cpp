#include "python/tree.h"

#include "python/tree_walk.h"

#include <algorithm>
#include <bit>
#include <new>
#include <stdexcept>
#include <unordered_map>

namespace leakfix::python {

ParsedFile::ParsedFile(SourceFile source) : ParsedFile(std::make_shared<const SourceFile>(std::move(source))) {}

namespace {

// A parser per thread: parsers are not thread-safe, and making one costs about as much as
// parsing a 100-byte file.
TSParser* thread_parser() {
  struct ParserDeleter {
    void operator()(TSParser* p) const { ts_parser_delete(p); }
  };
  thread_local const std::unique_ptr<TSParser, ParserDeleter> parser = [] {
    std::unique_ptr<TSParser, ParserDeleter> p(ts_parser_new());
    if (!ts_parser_set_language(p.get(), tree_sitter_python())) {
      throw std::logic_error("tree-sitter-python's ABI does not match the tree-sitter runtime");
    }
    return p;
  }();
  return parser.get();
}

}  // namespace

ParsedFile::ParsedFile(std::shared_ptr<const SourceFile> source) : source_(std::move(source)) { parse({}); }

ParsedFile::ParsedFile(std::shared_ptr<const SourceFile> source, Unparsed) : source_(std::move(source)) {}

ParsedFile ParsedFile::for_calls(std::shared_ptr<const SourceFile> source, const std::vector<std::string>& names) {
  auto selection = select_statements(source->text(), names);
  return selective(std::move(source), std::move(selection));
}

ParsedFile ParsedFile::selective(std::shared_ptr<const SourceFile> source, std::optional<Selection> selection) {
  ParsedFile file(std::move(source), Unparsed{});
  if (selection) {
    file.parse(selection->ranges);
    if (!ts_node_has_error(file.root())) {
      file.skipped_functions_ = std::move(selection->skipped_functions);
      file.parsed_ranges_ = std::move(selection->ranges);
      return file;
    }
  }
  file.parse({});
  return file;
}

void ParsedFile::parse(const std::vector<TSRange>& ranges) {
  TSParser* parser = thread_parser();
  const auto t = source_->text();
  // Ranges stay set on the parser until changed: every parse sets its own (none: the whole text).
  if (!ts_parser_set_included_ranges(parser, ranges.data(), static_cast<uint32_t>(ranges.size()))) {
    throw std::logic_error("statement ranges out of order");
  }
  tree_.reset(ts_parser_parse_string(parser, nullptr, t.data(), static_cast<uint32_t>(t.size())));
  if (!ranges.empty()) ts_parser_set_included_ranges(parser, nullptr, 0);
  if (!tree_) throw std::runtime_error("tree-sitter could not parse the file");
  index_ = std::make_unique<TreeIndex>(root());
  fallback_parents_.clear();
}

TreeIndex::TreeIndex(TSNode root) : root_(root) {
  TSTreeCursor c = ts_tree_cursor_new(root);
  if (ts_tree_cursor_goto_first_child(&c)) {
    do tops_.push_back(ts_tree_cursor_current_node(&c));
    while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
  table_.resize(64);
}

int32_t TreeIndex::lookup(const void* id) const {
  const std::size_t mask = table_.size() - 1;
  for (std::size_t h = (reinterpret_cast<std::uintptr_t>(id) >> 3) * 0x9E3779B97F4A7C15ull >> 20;; ++h) {
    const Slot& s = table_[h & mask];
    if (s.id == id) return s.index;
    if (!s.id) return kNone;
  }
}

void TreeIndex::rehash(std::size_t size) {
  std::vector<Slot> old(size);
  old.swap(table_);
  used_ = 0;
  for (const Slot& s : old) {
    if (s.id) insert(s.id, s.index);
  }
}

void TreeIndex::insert(const void* id, int32_t index) {
  if ((used_ + 1) * 2 > table_.size()) rehash(table_.size() * 2);
  const std::size_t mask = table_.size() - 1;
  for (std::size_t h = (reinterpret_cast<std::uintptr_t>(id) >> 3) * 0x9E3779B97F4A7C15ull >> 20;; ++h) {
    Slot& s = table_[h & mask];
    if (s.id == id) return;
    if (!s.id) {
      s = Slot{id, index};
      ++used_;
      return;
    }
  }
}

void TreeIndex::index_unit(TSNode unit, TSNode parent) {
  unit_parents_.emplace(static_cast<int32_t>(nodes_.size()), parent);
  // About one visible node in three bytes of Python, half of them named: room for that many at
  // half the table's load, so that the table grows once, not node by node.
  const std::size_t bytes = ts_node_end_byte(unit) - ts_node_start_byte(unit);
  const std::size_t want = (used_ + bytes / 4 + 16) * 2;
  if (want > table_.size()) rehash(std::bit_ceil(want));
  if (const std::size_t room = nodes_.size() + bytes / 4 + 16; room > nodes_.capacity()) {
    nodes_.reserve(std::max(room, 2 * nodes_.capacity()));
  }
  // The walk reads the subtrees themselves (tree_walk.c): tree-sitter's cursor costs several
  // hundred instructions a step, more than the parse spent on the node.
  struct Walk {
    TreeIndex* self;
    std::vector<int32_t> open;  // the entries above the node visited, one per depth
    std::vector<int32_t> last;  // the last child entered under each of them
    void close_to(std::size_t depth) {
      while (open.size() > depth) {
        self->nodes_[static_cast<std::size_t>(open.back())].end = static_cast<int32_t>(self->nodes_.size());
        open.pop_back();
        last.pop_back();
      }
    }
  } walk{this, {}, {}};
  const bool complete = leakfix_walk_visible(
      unit,
      [](void* context, const LeakfixVisit* v) {
        Walk& w = *static_cast<Walk*>(context);
        w.close_to(v->depth);
        // Anonymous leaves (punctuation, keywords) are stepped over, not kept: the analysis never
        // asks about them, and they are nearly half the nodes.
        if (!v->named && !v->has_children && v->depth > 0) return;
        auto& nodes = w.self->nodes_;
        const auto index = static_cast<int32_t>(nodes.size());
        Entry e;
        e.node = v->node;
        e.named = v->named;
        e.symbol = v->symbol;
        if (!w.open.empty()) {
          e.parent = w.open.back();
          e.field = v->field;
          if (w.last.back() == kNone) nodes[static_cast<std::size_t>(w.open.back())].first_child = index;
          else nodes[static_cast<std::size_t>(w.last.back())].next_sibling = index;
          w.last.back() = index;
        }
        e.end = index + 1;
        nodes.push_back(e);
        w.self->insert(v->node.id, index);
        if (v->has_children) {
          w.open.push_back(index);
          w.last.push_back(kNone);
        }
      },
      &walk);
  walk.close_to(0);
  if (!complete) throw std::bad_alloc();
}

int32_t TreeIndex::find(TSNode n) const {
  if (n.tree != root_.tree || !n.id || used_ == 0) return kNone;
  return lookup(n.id);
}

void TreeIndex::cover(TSNode n) {
  if (n.tree != root_.tree || ts_node_is_null(n) || find(n) != kNone) return;
  cover_span(ts_node_start_byte(n), ts_node_end_byte(n));
}

int32_t TreeIndex::deepest_at(uint32_t byte) {
  int32_t i = cover_span(byte, byte + 1);
  if (i == kNone || byte < ts_node_start_byte(nodes_[static_cast<std::size_t>(i)].node) ||
      byte >= ts_node_end_byte(nodes_[static_cast<std::size_t>(i)].node)) {
    return kNone;
  }
  for (int32_t c = nodes_[static_cast<std::size_t>(i)].first_child; c != kNone;) {
    const TSNode n = nodes_[static_cast<std::size_t>(c)].node;
    if (ts_node_start_byte(n) > byte) break;
    if (byte < ts_node_end_byte(n)) {
      i = c;
      c = nodes_[static_cast<std::size_t>(c)].first_child;
    } else {
      c = nodes_[static_cast<std::size_t>(c)].next_sibling;
    }
  }
  return i;
}

int32_t TreeIndex::cover_span(uint32_t start, uint32_t end) {
  // The last top-level statement starting at or before the span holds it, if any does.
  auto it = std::upper_bound(tops_.begin(), tops_.end(), start, [](uint32_t b, TSNode t) { return b < ts_node_start_byte(t); });
  if (it == tops_.begin() || ts_node_end_byte(*std::prev(it)) < end) return kNone;
  TSNode unit = *std::prev(it), parent = root_;
  // Inside a class, the unit is the statement of its body that holds n (a method, most often):
  // one acquisition in a large class does not copy the whole class. The class itself, its body
  // and its decorators are left to tree-sitter.
  static const TSFieldId body_id = field_id("body"), definition_id = field_id("definition");
  for (;;) {
    const TSNode cls = is(unit, "decorated_definition") ? ts_node_child_by_field_id(unit, definition_id) : unit;
    if (!is(cls, "class_definition")) break;
    const TSNode body = ts_node_child_by_field_id(cls, body_id);
    TSNode holder{};
    PooledCursor pc(body);
    if (!ts_node_is_null(body) && ts_tree_cursor_goto_first_child(pc.get())) {
      do {
        const TSNode s = ts_tree_cursor_current_node(pc.get());
        if (ts_node_start_byte(s) > start) break;
        if (ts_node_end_byte(s) >= end && ts_node_is_named(s)) holder = s;
      } while (!ts_node_is_null(holder) ? false : ts_tree_cursor_goto_next_sibling(pc.get()));
    }
    if (ts_node_is_null(holder)) return kNone;
    unit = holder;
    parent = body;
  }
  if (const int32_t i = find(unit); i != kNone) return i;
  const auto i = static_cast<int32_t>(nodes_.size());
  index_unit(unit, parent);
  return i;
}

TSNode TreeIndex::parent(int32_t i) const {
  const int32_t p = nodes_[static_cast<std::size_t>(i)].parent;
  if (p != kNone) return nodes_[static_cast<std::size_t>(p)].node;
  const auto it = unit_parents_.find(i);
  return it != unit_parents_.end() ? it->second : TSNode{};
}

TSNode field(TSNode n, TSFieldId id) {
  if (ts_node_is_null(n) || id == 0) return TSNode{};
  if (TreeIndex* ix = detail::index_for(n)) {
    if (const int32_t i = ix->find(n); i != TreeIndex::kNone) {
      for (int32_t c = (*ix)[i].first_child; c != TreeIndex::kNone; c = (*ix)[c].next_sibling) {
        if ((*ix)[c].field == id) return (*ix)[c].node;
      }
      // The fields of tree-sitter-python that name a token rather than a node.
      static const TSFieldId operator_field = field_id("operator"), operators_field = field_id("operators");
      return id == operator_field || id == operators_field ? ts_node_child_by_field_id(n, id) : TSNode{};
    }
  }
  return ts_node_child_by_field_id(n, id);
}

namespace {

struct CursorPool {
  std::vector<TSTreeCursor> free;
  ~CursorPool() {
    for (auto& c : free) ts_tree_cursor_delete(&c);
  }
};
thread_local CursorPool cursor_pool;

}  // namespace

PooledCursor::PooledCursor(TSNode n) {
  if (cursor_pool.free.empty()) {
    cursor_ = ts_tree_cursor_new(n);
  } else {
    cursor_ = cursor_pool.free.back();
    cursor_pool.free.pop_back();
    ts_tree_cursor_reset(&cursor_, n);
  }
}

PooledCursor::~PooledCursor() { cursor_pool.free.push_back(cursor_); }

std::vector<TSNode> ParsedFile::path_to(TSNode top, uint32_t byte) const {
  std::vector<TSNode> path{top};
  PooledCursor pc(top);
  while (ts_tree_cursor_goto_first_child_for_byte(pc.get(), byte) >= 0) {
    // tree-sitter 0.20 also stops at a child that ends exactly at the byte (the `[` before a
    // name that opens a list): the node holding the byte is a later sibling.
    TSNode child = ts_tree_cursor_current_node(pc.get());
    while (ts_node_end_byte(child) <= byte && ts_tree_cursor_goto_next_sibling(pc.get())) {
      child = ts_tree_cursor_current_node(pc.get());
    }
    if (ts_node_start_byte(child) > byte || ts_node_end_byte(child) <= byte) break;
    path.push_back(child);
  }
  return path;
}

TSNode ParsedFile::parent(TSNode n) const {
  if (ts_node_is_null(n) || same(n, root())) return TSNode{};
  // ts_node_parent walks down from the root, through every statement before the node: covering
  // the node's statement costs one walk of that statement, and every later step up is a load.
  int32_t i = index_->find(n);
  if (i == TreeIndex::kNone) {
    index_->cover(n);
    i = index_->find(n);
  }
  if (i != TreeIndex::kNone) return index_->parent(i);
  // Not indexed: a class's own nodes, or an anonymous leaf. ts_node_parent walks down from the
  // root, so its answers are remembered.
  auto [it, added] = fallback_parents_.try_emplace(n.id);
  if (added) it->second = ts_node_parent(n);
  return it->second;
}

namespace {

const std::vector<std::string_view>& symbol_names() {
  static const std::vector<std::string_view> names = [] {
    const TSLanguage* lang = tree_sitter_python();
    std::vector<std::string_view> out(ts_language_symbol_count(lang));
    for (TSSymbol i = 0; i < out.size(); ++i) out[i] = ts_language_symbol_name(lang, i);
    return out;
  }();
  return names;
}

// A table from the hash of a field's name to its id.
struct FieldTable {
  std::vector<std::pair<uint64_t, TSFieldId>> by_hash;  // open addressing, a power of two long

  FieldTable() {
    const TSLanguage* lang = tree_sitter_python();
    const TSFieldId count = static_cast<TSFieldId>(ts_language_field_count(lang));
    by_hash.assign(std::bit_ceil(std::size_t{count} * 4u), {0, 0});
    for (TSFieldId id = 1; id <= count; ++id) {
      const uint64_t h = GrammarName::hash_of(ts_language_field_name_for_id(lang, id));
      for (std::size_t i = h;; ++i) {
        auto& slot = by_hash[i & (by_hash.size() - 1)];
        if (slot.second == 0) {
          slot = {h, id};
          break;
        }
        if (slot.first == h) throw std::logic_error("two field names of the grammar hash alike");
      }
    }
  }
};

const FieldTable& fields() {
  static const FieldTable table;
  return table;
}

}  // namespace

namespace detail {

const std::vector<uint64_t> type_hashes = [] {
  std::vector<uint64_t> out;
  std::unordered_map<uint64_t, std::string_view> seen;
  for (const auto name : symbol_names()) {
    out.push_back(GrammarName::hash_of(name));
    const auto [it, added] = seen.emplace(out.back(), name);
    if (!added && it->second != name) throw std::logic_error("two node types of the grammar hash alike");
  }
  return out;
}();

uint64_t type_hash_slow(TSSymbol symbol) { return GrammarName::hash_of(ts_language_symbol_name(tree_sitter_python(), symbol)); }

}  // namespace detail

bool may_hold_block(TSNode n) {
  static const std::vector<bool> holds = [] {
    std::vector<bool> out;
    for (const auto name : symbol_names()) {
      out.push_back(name == "block" || name == "module" || name == "decorated_definition" || name.ends_with("_statement") ||
                    name.ends_with("_clause") || name == "function_definition" || name == "class_definition");
    }
    return out;
  }();
  if (!n.id) return false;
  const TSSymbol s = symbol_of(n);
  return s < holds.size() && holds[s];
}

std::string_view type(TSNode n) {
  const auto& names = symbol_names();
  if (ts_node_is_null(n)) return {};
  const TSSymbol sym = symbol_of(n);
  return sym < names.size() ? names[sym] : std::string_view(ts_node_type(n));
}

TSFieldId field_id(GrammarName name) {
  const auto& by_hash = fields().by_hash;
  for (std::size_t i = name.hash;; ++i) {
    const auto& slot = by_hash[i & (by_hash.size() - 1)];
    if (slot.second == 0) return 0;
    if (slot.first == name.hash) return slot.second;
  }
}

std::vector<TSNode> code_children(TSNode n) {
  std::vector<TSNode> out;
  // One allocation, not one per doubling (a cheap count: the subtree keeps it).
  if (!ts_node_is_null(n)) out.reserve(ts_node_named_child_count(n));
  for_each_named_child(n, [&](TSNode c) {
    if (!is(c, "comment")) out.push_back(c);
  });
  return out;
}

TSNode unwrap(TSNode n) {
  while (!ts_node_is_null(n)) {
    const auto t = type(n);
    if (t != "parenthesized_expression" && t != "await") return n;
    TSNode inner{};
    for_each_named_child(n, [&](TSNode c) {
      if (!is(c, "comment")) inner = c;
    });
    if (ts_node_is_null(inner)) return n;
    n = inner;
  }
  return n;
}

bool is_scope(TSNode n) {
  const auto t = type(n);
  return t == "function_definition" || t == "lambda" || t == "class_definition" || t == "module";
}

bool is_comprehension(TSNode n) {
  const auto t = type(n);
  return t == "list_comprehension" || t == "set_comprehension" || t == "dictionary_comprehension" ||
         t == "generator_expression";
}

}  // namespace leakfix::python
