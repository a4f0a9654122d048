-- bucket.lua - calm, client_burst 3 and net_burst 5 at a slow rate: the
-- fourth message of an address and the sixth of its /24 wait, at the end
-- of their headers (the buckets are read at MAIL FROM and judged there);
-- a message an hour from its sender's deadline from the same address is
-- still taken
dofile(srcdir .. "/lib.lua")
for i = 1, 3 do
	accepted("address message " .. i, "198.51.100.10", { received(0) })
end
tempfailed("address message 4", "198.51.100.10", { received(0) })
accepted("address message 5, urgent", "198.51.100.10",
    { received(5 * DAY - HOUR) })
accepted("net message 4", "198.51.100.11", { received(0) })
accepted("net message 5", "198.51.100.12", { received(0) })
tempfailed("net message 6", "198.51.100.13", { received(0) })
accepted("another /24", "198.51.101.13", { received(0) })
accepted("IPv6", "2001:db8::1", { received(0) })
