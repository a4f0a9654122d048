-- trickle.lua - loaded; the saved state says 192.0.2.50 was first seen 2h
-- ago and nothing of it got in: its next message does, the one after waits;
-- a client never seen before waits
dofile(srcdir .. "/lib.lua")
accepted("first after 2h of failures", "192.0.2.50", { received(0) })
tempfailed("the next one waits", "192.0.2.50", { received(0) })
tempfailed("a new client waits", "192.0.2.51", { received(0) })
