-- malformed.lua - loaded: bad Received: headers never crash the milter
-- and never get a message in; an old, well-formed one still does after
dofile(srcdir .. "/lib.lua")
local function rcvd(v) return { "Received", v } end
local cases = {
	{ "no date", { rcvd("from a by b with ESMTP id 123") } },
	{ "date after no ';'", { rcvd("from a by b " .. date(4 * DAY)) } },
	{ "date in the future", { rcvd("from a by b; " .. date(-DAY)) } },
	{ "date in 2099", { rcvd("by b; Thu, 1 Jan 2099 00:00:00 +0000") } },
	{ "date in 1970", { rcvd("by b; Thu, 1 Jan 1970 00:00:00 +0000") } },
	{ "older than any lifetime", { rcvd("by b; " .. date(60 * DAY)) } },
	{ "garbage", { rcvd("by b; \255\254\1\2 ((((((((((((((((((((") } },
	{ "garbage date", { rcvd("by b; Fri, 99 Foo 20x4 25:61:61 +9999") } },
	{ "empty", { rcvd("") } },
	{ "only ';'", { rcvd(";;;;;;;") } },
	{ "NUL before an old date",
	  { rcvd("from a\0; " .. date(4 * DAY)) } },
	-- miltertest (Debian 1.0.0) overflows a 1 KiB buffer on longer
	-- headers, so the long-header cases stay under that here
	{ "long Received", { rcvd(string.rep("x", 900) .. "; " ..
	    date(0)) } },
	{ "long Received, unclosed comments, a fresh date",
	  { rcvd(string.rep("(", 900) .. "; " .. date(0)) } },
	{ "long Subject", { { "Subject", string.rep("y", 950) },
	    received(0) } },
}
for _, c in ipairs(cases) do
	tempfailed(c[1], "192.0.2.1", c[2])
end
-- a thousand fresh Received: headers; an old one past the first hundred
-- is not looked at
local many = {}
for i = 1, 1000 do many[i] = received(60) end
many[500] = received(4 * DAY)
tempfailed("a thousand Received", "192.0.2.2", many)
accepted("still alive: an old message", "192.0.2.3", { received(4 * DAY) })
