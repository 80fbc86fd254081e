; Every call in a file, with the expression that names the callee. The analyzer resolves the
; callee through the file's imports and matches it against the rules' acquirers and releases.
(call function: (_) @callee) @call
