-- spf.lua - spf = header: a message that gets in carries Received-SPF and
-- Authentication-Results, inserted on top at the end of the message. The
-- sender has no domain, so the result is "none" and no DNS is asked.
dofile(srcdir .. "/lib.lua")
local conn = open("192.0.2.1")
if mt.helo(conn, "client.test") ~= nil then fail("mt.helo failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("helo not continued") end
if mt.mailfrom(conn, "<nodomain>") ~= nil then fail("mt.mailfrom failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("mail not continued") end
local h = received(0)
if mt.header(conn, h[1], h[2]) ~= nil then fail("mt.header failed") end
mt.getreply(conn)
if mt.eoh(conn) ~= nil then fail("mt.eoh failed") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then
	fail("eoh: want continue, for the headers at the end")
end
if mt.eom(conn) ~= nil then fail("mt.eom failed") end
if mt.getreply(conn) ~= SMFIR_ACCEPT then fail("eom: want accept") end
if not mt.eom_check(conn, MT_HDRINSERT, "Received-SPF") then
	fail("no Received-SPF inserted")
end
if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results") then
	fail("no Authentication-Results inserted")
end
mt.disconnect(conn)
