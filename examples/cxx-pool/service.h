#pragma once
#include <vector>

#include "pool.h"

int lookup(Pool& pool, int id);
int refresh(Pool& pool);
int bulk(Pool& pool, const std::vector<int>& ids);
int report(Pool& pool, bool brief);
