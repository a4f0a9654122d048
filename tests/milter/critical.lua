-- critical.lua - pressure 2 >= critical 1.5, action = tempfail: MAIL FROM
-- passes (the headers tell how close the sender is to giving up), a fresh
-- message waits at the end of its headers, and one an hour from its
-- sender's deadline is still taken
dofile(srcdir .. "/lib.lua")
tempfailed("fresh message", "192.0.2.1", { received(0) })
accepted("urgent message", "192.0.2.2", { received(5 * DAY - HOUR) })
