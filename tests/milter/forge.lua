-- forge.lua - a client that speaks the milter protocol itself names, as
-- its queue id, a message an administrator holds (-D id=QUEUEID): under
-- pressure with action = hold the milter quarantines it and tells ebbd's
-- parent, which must not take that message as ebb's
dofile(srcdir .. "/lib.lua")
local s, r, conn = message("192.0.2.1", "<a@example.org>",
    { received(5 * DAY - 6 * HOUR) }, id)
expect("forged message", s, r, "eom", SMFIR_ACCEPT)
if not mt.eom_check(conn, MT_QUARANTINE) then
	fail("forged message not quarantined")
end
mt.disconnect(conn)
