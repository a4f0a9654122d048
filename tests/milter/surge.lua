-- surge.lua - a calm host with action = hold, just started (the gate at
-- the governor's first rate, a token or two): the first message goes
-- straight in, and of eight at once some are taken into hold as a surge
-- and carry ebb's proof; none is refused
dofile(srcdir .. "/lib.lua")
local held = 0
for i = 1, 8 do
	local s, r, conn = message("192.0.2." .. i, "<a@example.org>",
	    { received(0) }, "SURGE" .. i)
	if i == 1 then
		expect("message 1", s, r, "eoh", SMFIR_ACCEPT)
	elseif s == "eom" and r == SMFIR_ACCEPT then
		if not mt.eom_check(conn, MT_QUARANTINE) then
			fail("message " .. i .. " accepted at eom, not held")
		end
		held = held + 1
	elseif not (s == "eoh" and r == SMFIR_ACCEPT) then
		fail("message " .. i .. " refused: " .. s)
	end
	if s == "eom" then
		mt.disconnect(conn)	-- message() closed the others
	end
end
if held == 0 then
	fail("eight messages at once, none held")
end
