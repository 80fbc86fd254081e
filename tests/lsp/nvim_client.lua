-- Drives `leakfix server` from Neovim's own LSP client (nvim --headless): open a file with a
-- leak, wait for the diagnostic, hover it, apply the fix code action and write the file.
-- Environment: LEAKFIX (the binary), ROOT (the workspace), FILE (the file to open), OUT (a
-- report of what was seen, one `key: value` per line). Exits 0 when every step happened.
local leakfix, root, file, out = os.getenv('LEAKFIX'), os.getenv('ROOT'), os.getenv('FILE'), os.getenv('OUT')
local report = {}
local function say(k, v) table.insert(report, k .. ': ' .. tostring(v)) end
local function finish(code)
  local f = io.open(out, 'w')
  f:write(table.concat(report, '\n') .. '\n')
  f:close()
  vim.cmd('cquit ' .. code)
end

vim.cmd('edit ' .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({ name = 'leakfix', cmd = { leakfix, 'server' }, root_dir = root })
if not client_id then
  say('error', 'the server did not start')
  return finish(1)
end
vim.lsp.buf_attach_client(buf, client_id)

local ok = vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
if not ok then
  say('error', 'no diagnostics within 30 s')
  return finish(1)
end
local diags = vim.diagnostic.get(buf)
table.sort(diags, function(a, b) return a.lnum < b.lnum end)
local d = diags[1]
say('diagnostics', #diags)
say('first', string.format('%d:%d %s %s', d.lnum + 1, d.col + 1, d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code), d.source))
say('message', d.message)

local client = vim.lsp.get_client_by_id(client_id)
local lsp_diag = d.user_data and d.user_data.lsp
local hover = vim.lsp.buf_request_sync(buf, 'textDocument/hover', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  position = { line = d.lnum, character = d.col },
}, 10000)
local hover_text = ''
for _, r in pairs(hover or {}) do
  if r.result and r.result.contents then hover_text = r.result.contents.value end
end
say('hover_has_doc', hover_text:find('## What it is', 1, true) ~= nil)

local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = { start = { line = d.lnum, character = d.col }, ['end'] = { line = d.end_lnum, character = d.end_col } },
  context = { diagnostics = { lsp_diag } },
}
local results = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 30000)
local fix
local titles = {}
for _, r in pairs(results or {}) do
  for _, action in ipairs(r.result or {}) do
    table.insert(titles, action.title)
    if action.title:sub(1, 4) == 'Fix:' and not fix then fix = action end
  end
end
say('actions', table.concat(titles, ' | '))
if not fix then
  say('error', 'no fix action')
  return finish(1)
end
vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding)
vim.cmd('wall')
say('applied', fix.title)

-- The server analyses the edited buffer: the fixed finding is gone.
ok = vim.wait(30000, function()
  for _, x in ipairs(vim.diagnostic.get(buf)) do
    if x.lnum == d.lnum and x.message == d.message then return false end
  end
  return true
end, 50)
say('gone_after_fix', ok)
say('left', #vim.diagnostic.get(buf))
vim.lsp.stop_client(client_id)
finish(0)
