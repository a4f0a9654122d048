-- loaded.lua - pressure 0.8 (cutoff 0.5 with the default band): a message
-- queued 4 days ago of 5 gets in, a fresh one waits with 451 4.7.1
dofile(srcdir .. "/lib.lua")
accepted("old message", "192.0.2.1", { received(HOUR), received(4 * DAY) })
tempfailed("fresh message", "192.0.2.2", { received(60) })
tempfailed("undated message", "192.0.2.3", { { "Subject", "x" } })
-- a domain_lifetimes override: outlook.com gives up after 1d, so 13h is
-- past half of its lifetime
local s, r = message("192.0.2.4", "<a@outlook.com>", { received(13 * HOUR) })
expect("outlook.com after 13h", s, r, "eoh", SMFIR_ACCEPT)
