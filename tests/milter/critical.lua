-- critical.lua - pressure 2 >= critical 1.5: everything waits, at MAIL FROM
dofile(srcdir .. "/lib.lua")
tempfailed("fresh message", "192.0.2.1", { received(0) }, "mail")
tempfailed("urgent message", "192.0.2.2", { received(5 * DAY - HOUR) },
    "mail")
