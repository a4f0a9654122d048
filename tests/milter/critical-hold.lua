-- critical-hold.lua - pressure 2 >= critical 1.5 with action = hold: the
-- delivery side is what is short, and taking mail in costs little, so
-- both a fresh and an urgent message are accepted into hold
dofile(srcdir .. "/lib.lua")
for i, age in ipairs({ 0, 5 * DAY - HOUR }) do
	local s, r, conn = message("192.0.2." .. i, "<a@example.org>",
	    { received(age) }, "CRIT" .. i)
	expect("message " .. i, s, r, "eom", SMFIR_ACCEPT)
	if not mt.eom_check(conn, MT_QUARANTINE) then
		fail("message " .. i .. " not quarantined")
	end
	mt.disconnect(conn)
end
