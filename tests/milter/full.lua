-- full.lua - the queue's file system below queue_disk_free_min: accepting
-- itself is short, so every message is refused at MAIL FROM, an urgent
-- one too, with 452 4.3.1, even with action = hold
dofile(srcdir .. "/lib.lua")
tempfailed("fresh message", "192.0.2.1", { received(0) }, "mail")
tempfailed("urgent message", "192.0.2.2", { received(5 * DAY - HOUR) },
    "mail")
