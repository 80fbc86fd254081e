#pragma once
// One pre-order walk of a tree-sitter subtree's visible nodes, read from the runtime's subtrees
// directly (tree_walk.c). It reports what tree-sitter's cursor would (the node, its field, its
// symbol) at a small part of the cost: the cursor re-derives the alias sequence, the position
// and the field of every step from its stack, several hundred instructions a node.
#include <tree_sitter/api.h>

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  TSNode node;
  uint32_t depth;      // visible ancestors between the node and the walk's root (0: the root)
  TSFieldId field;     // as ts_tree_cursor_current_field_id; 0 for the root
  TSSymbol symbol;     // as ts_node_symbol
  bool named;          // as ts_node_is_named
  bool has_children;   // as ts_node_child_count(node) > 0
} LeakfixVisit;

typedef void (*LeakfixVisitFn)(void* context, const LeakfixVisit* visit);

// Calls visit for `root` and each visible node below it, in pre-order. Returns false only when
// memory for a deep tree's stack ran out (nothing is visited then from that depth on).
bool leakfix_walk_visible(TSNode root, LeakfixVisitFn visit, void* context);

#ifdef __cplusplus
}
#endif
