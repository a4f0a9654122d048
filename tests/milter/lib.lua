-- lib.lua - helpers of ebb's miltertest scripts (loaded with dofile)
--
-- Each script is run as "miltertest -s SCRIPT -D port=N -D srcdir=DIR"
-- against tests/milter/ebb-milter-test listening on inet:N@127.0.0.1.
-- Every message goes on a connection of its own; message() says where the
-- milter stopped it ("mail", "header", "eoh" or "eom") and its reply.

function fail(msg)
	error(msg, 0)
end

-- open - a connection from client address ip
function open(ip)
	local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 40, 0.25)
	if conn == nil then fail("cannot connect to the milter") end
	if mt.conninfo(conn, "client.test", ip) ~= nil then
		fail("mt.conninfo failed")
	end
	if mt.getreply(conn) ~= SMFIR_CONTINUE then
		fail("connect not continued")
	end
	return conn
end

-- message - one message from ip: MAIL FROM from, the headers (a list of
-- {name, value}), EOH, EOM; returns the stage it ended at and the reply
function message(ip, from, headers, qid)
	local conn = open(ip)
	local r
	if qid ~= nil then
		mt.macro(conn, SMFIC_MAIL, "i", qid)
	end
	if mt.mailfrom(conn, from) ~= nil then fail("mt.mailfrom failed") end
	r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then
		mt.disconnect(conn)
		return "mail", r, conn
	end
	for _, h in ipairs(headers) do
		if mt.header(conn, h[1], h[2]) ~= nil then
			fail("mt.header failed")
		end
		r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE then
			mt.disconnect(conn)
			return "header", r, conn
		end
	end
	if mt.eoh(conn) ~= nil then fail("mt.eoh failed") end
	r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then
		mt.disconnect(conn)
		return "eoh", r, conn
	end
	if mt.eom(conn) ~= nil then fail("mt.eom failed") end
	r = mt.getreply(conn)
	return "eom", r, conn
end

-- date - an RFC 5322 date age seconds ago
function date(age)
	return os.date("!%a, %d %b %Y %H:%M:%S +0000", os.time() - age)
end

-- received - a Received: header of a message first queued age seconds ago
function received(age)
	return { "Received", "from mta.example.org (mta.example.org " ..
	    "[192.0.2.99]) by mx.example.net; " .. date(age) }
end

local names = {
	[SMFIR_ACCEPT] = "accept", [SMFIR_CONTINUE] = "continue",
	[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REJECT] = "reject",
	[SMFIR_REPLYCODE] = "replycode"
}

-- expect - the message ended at stage with reply, else fail naming what
function expect(what, stage, reply, want_stage, want_reply)
	if stage ~= want_stage or reply ~= want_reply then
		fail(what .. ": got " .. stage .. "/" ..
		    (names[reply] or tostring(reply)) .. ", want " ..
		    want_stage .. "/" .. (names[want_reply] or "?"))
	end
end

-- accepted, tempfailed - the usual two ends of a message
function accepted(what, ip, headers)
	local s, r = message(ip, "<sender@example.org>", headers)
	expect(what, s, r, "eoh", SMFIR_ACCEPT)
end

function tempfailed(what, ip, headers, stage)
	local s, r = message(ip, "<sender@example.org>", headers)
	expect(what, s, r, stage or "eoh", SMFIR_REPLYCODE)
end

HOUR = 3600
DAY = 86400
