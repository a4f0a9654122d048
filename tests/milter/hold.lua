-- hold.lua - pressure 1.2 with action = hold: a message 6h from its
-- sender's deadline is accepted into hold (quarantined), carries ebb's
-- proof of the hold and is reported to the host with its queue id; so is
-- a fresh one: accepting costs the host little, and the drain lets both
-- out at the rate it can take
dofile(srcdir .. "/lib.lua")
local s, r, conn = message("192.0.2.1", "<a@example.org>",
    { received(5 * DAY - 6 * HOUR) }, "HOLDME1")
expect("urgent message", s, r, "eom", SMFIR_ACCEPT)
if not mt.eom_check(conn, MT_QUARANTINE) then
	fail("urgent message not quarantined")
end
-- with ebb's proof of the hold, for queue id HOLDME1
if not mt.eom_check(conn, MT_HDRADD, "X-Ebb-Parked") then
	fail("held message without the X-Ebb-Parked header")
end
mt.disconnect(conn)
s, r, conn = message("192.0.2.2", "<b@example.org>", { received(0) },
    "HOLDME2")
expect("fresh message", s, r, "eom", SMFIR_ACCEPT)
if not mt.eom_check(conn, MT_QUARANTINE) then
	fail("fresh message not quarantined")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Ebb-Parked") then
	fail("held fresh message without the X-Ebb-Parked header")
end
mt.disconnect(conn)
