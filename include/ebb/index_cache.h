/*
 * index_cache.h - the index kept on disk between runs of ebbctl
 *
 * Without ebbd, every ebbctl backlog or list would parse the whole queue.
 * The cache is the index as the last run left it: for each queue file its
 * (inode, size, mtime) and the fields parsed from it. Loaded into an empty
 * index before a scan, it turns that scan into a rescan: a file whose stamp
 * matches is not read again, a changed one is, and one gone is swept. The
 * cache is never more than a hint: every entry is checked against the file
 * by stat before it counts, and nothing that changes mail trusts it (the
 * drain looks at the real file before it parks or releases).
 *
 * One file, written whole to a temporary name, fsync'ed and renamed over
 * the old one, so a crash leaves the old cache or the new one, never half
 * of one. It is in the host's byte order, with a checksum. index_cache_load
 * ignores, with the reason, a file that is not a regular file of the
 * caller's user writable by it alone, not a cache, of another version or
 * byte order, made for another identity (MTA, queue directory and the
 * settings the parsed fields depend on: the caller's string), truncated,
 * damaged or too big.
 */
#ifndef EBB_INDEX_CACHE_H
#define EBB_INDEX_CACHE_H

struct index;

#define INDEX_CACHE_VERSION	1
#define INDEX_CACHE_MAX_BYTES	(1024L * 1024 * 1024)	/* ~9M messages */
#define INDEX_CACHE_IDENT_MAX	4096

/*
 * index_cache_load - add the cache at path to ix (empty), each message
 * stamped. 1 when loaded; 0 when there is none; -1 when it was ignored,
 * with why in *why_r (allocated); ix is left empty then.
 */
int	 index_cache_load(const char *path, const char *ident,
	    struct index *ix, char **why_r);

/*
 * index_cache_save - write the stamped messages of ix to path (through
 * path.new). 0, 1 when another process is writing it (nothing done), or
 * -1 and *err_r.
 */
int	 index_cache_save(const char *path, const char *ident,
	    struct index *ix, char **err_r);

#endif
