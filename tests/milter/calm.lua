-- calm.lua - an idle host accepts everything, fresh or old, dated or not
dofile(srcdir .. "/lib.lua")
accepted("fresh message", "192.0.2.1", { received(0) })
accepted("old message", "192.0.2.1", { received(4 * DAY) })
accepted("no Received", "192.0.2.1", { { "Subject", "hello" } })
local s, r = message("192.0.2.1", "<>", { received(0) })
expect("null sender", s, r, "eoh", SMFIR_ACCEPT)
