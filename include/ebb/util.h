/*
 * util.h - small helpers every part of ebb uses
 *
 * The x* allocators never return NULL: running out of memory is fatal and
 * logged, so callers need not check.
 */
#ifndef EBB_UTIL_H
#define EBB_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define EBB_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define EBB_NORETURN		__attribute__((noreturn))

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define MINIMUM(a, b)	((a) < (b) ? (a) : (b))
#define MAXIMUM(a, b)	((a) > (b) ? (a) : (b))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* xasprintf - allocate a formatted string; never fails */
char	*xasprintf(const char *, ...) EBB_PRINTF(1, 2);
char	*xvasprintf(const char *, va_list) EBB_PRINTF(1, 0);

/*
 * strlcpy_ - copy at most size-1 bytes and NUL-terminate; returns strlen(src)
 * so truncation is detected by a result >= size.
 */
size_t	 ebb_strlcpy(char *, const char *, size_t);

/* ebb_queue_id_valid - true when id matches ^[0-9A-Za-z]+$ and is short */
int	 ebb_queue_id_valid(const char *);

/*
 * ebb_text_line_valid - true when s[0..len) is one line of text fit to
 * show anyone: valid UTF-8 (no overlong forms, no surrogates), no NUL,
 * no control character (C0, DEL, C1) and not only spaces
 */
int	 ebb_text_line_valid(const char *s, size_t len);

/* ebb_now_mono - the monotonic clock, in seconds (for intervals) */
double	 ebb_now_mono(void);

/* ebb_now_real - the wall clock, in seconds since the epoch */
double	 ebb_now_real(void);

#endif
